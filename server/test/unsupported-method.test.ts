import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EmptyResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { connect, LEGACY, MODERN } from './helpers/mcp.js';
import { ServerProcess, Upstream } from './helpers/procs.js';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('a method the server does not serve', () => {
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

  for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
    it(`is -32601 to the v1 SDK client at ${version}, not a transport error`, async () => {
      const client = new V1Client({ name: 'v1-client', version: '1.0.0' });
      const transport = new V1Transport(new URL(server.mcpUrl));
      await client.connect(transport);
      transport.setProtocolVersion(version); // every later request carries this MCP-Protocol-Version
      try {
        await assert.rejects(client.request({ method: 'prompts/list' }, EmptyResultSchema), (err: unknown) => err instanceof McpError && err.code === -32601);
      } finally {
        await client.close();
      }
    });
  }

  it('is -32601 to the v2 SDK client at 2025-11-25', async () => {
    const client = await connect(server.mcpUrl, LEGACY);
    try {
      await assert.rejects(client.request({ method: 'prompts/list' }), (err: unknown) => (err as { code?: number }).code === -32601);
    } finally {
      await client.close();
    }
  });

  // At 2026-07-28 the SDK's own server answers 404 + -32601 (the revision's rule), which the v2
  // client 2.4.0 reports as an HTTP error whose body carries the -32601.
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(server.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });

  it('keeps HTTP 404 for the 2026-07-28 revision only, and checks JSON-RPC before the method', async () => {
    const modern = await post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'prompts/list' }, { jsonrpc: '2.0', id: 1, method: 'prompts/list', params: { _meta: ENVELOPE } });
    assert.equal(modern.status, 404);
    assert.equal(((await modern.json()) as { error: { code: number } }).error.code, -32601);
    const notJsonRpc = await post({}, { jsonrpc: '1.0', id: 1, method: 'foo/bar' });
    assert.equal(notJsonRpc.status, 400);
    assert.equal(((await notJsonRpc.json()) as { error: { code: number } }).error.code, -32600);
  });
});
