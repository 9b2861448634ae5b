import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LEGACY } from './helpers/mcp.js';
import { send } from './helpers/http.js';
import { metricValue, ServerProcess, Upstream } from './helpers/procs.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LEGACY };

describe('the outcome label of mcp_request_duration_seconds', () => {
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    upstream = await Upstream.start();
    server = await ServerProcess.start({ UPSTREAM_URL: upstream.url, REDIS_URL: 'redis://127.0.0.1:1' });
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  const call = (method: string, params?: object) => send(server.mcpUrl, { headers: HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const count = async (labels: Record<string, string>) => metricValue(await server.metrics(), 'mcp_request_duration_seconds_count', labels) ?? 0;

  // Each answer is made by the SDK, not by a tool: all are HTTP 200 on the 2025 revisions.
  const cases = [
    { name: 'an unknown tool', method: 'tools/call', params: { name: 'no_such_tool', arguments: {} }, labels: { method: 'tools/call', tool: 'unknown', outcome: 'rpc_error' } },
    { name: 'arguments that fail the schema', method: 'tools/call', params: { name: 'cached_fetch', arguments: { path: 5 } }, labels: { method: 'tools/call', tool: 'cached_fetch', outcome: 'tool_error' } },
    { name: 'an unknown method', method: 'prompts/list', labels: { method: 'unknown', tool: 'none', outcome: 'rpc_error' } },
    { name: 'an unknown resource', method: 'resources/read', params: { uri: 'status://nothing' }, labels: { method: 'resources/read', tool: 'none', outcome: 'rpc_error' } },
  ];
  for (const c of cases) {
    it(`counts ${c.name} as ${c.labels.outcome}, not success`, async () => {
      const before = await count(c.labels);
      const res = await call(c.method, c.params);
      assert.equal(res.status, 200, res.text);
      assert.equal(await count(c.labels), before + 1, res.text);
      assert.equal(await count({ ...c.labels, outcome: 'success' }), 0);
    });
  }

  it('counts an answer with a result as success', async () => {
    const labels = { method: 'tools/call', tool: 'server_info', outcome: 'success' };
    const before = await count(labels);
    assert.equal((await call('tools/call', { name: 'server_info', arguments: {} })).status, 200);
    assert.equal(await count(labels), before + 1);
  });
});
