import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cachedFetch, connect, LEGACY, MODERN } from './helpers/mcp.js';
import { RedisProcess, ServerProcess, Upstream, waitFor } from './helpers/procs.js';

describe('tracing and logs', () => {
  let redis: RedisProcess;
  let upstream: Upstream;
  let collector: Server;
  const exports: { path: string; body: string }[] = [];
  let traced: ServerProcess;
  let untraced: ServerProcess;

  before(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    redis = await RedisProcess.start();
    upstream = await Upstream.start();
    const env = { REDIS_URL: redis.url, UPSTREAM_URL: upstream.url };
    [traced, untraced] = await ServerProcess.startAll([
      {
        ...env,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_TRACES_SAMPLER_ARG: '0.1', // enough traced requests out of 200 to test the share
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=tracing-test',
      },
      // The endpoint is set, but the standard switch turns tracing off.
      { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' },
    ]);
  });

  after(async () => {
    await Promise.all([traced?.stop(), untraced?.stop()]);
    await upstream?.close();
    await redis?.destroy();
    collector?.close();
  });

  it('exports OTLP spans for the request, the Redis commands and the upstream call of a sampled trace', async () => {
    // The default sampler follows the caller's decision: this caller samples its trace.
    const client = await connect(traced.mcpUrl, LEGACY, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await cachedFetch(client, '/traced');
    await client.close();
    const all = await waitFor(() => {
      const text = exports.map((e) => e.body).join('\n');
      return /"redis"/.test(text) && text.includes('/traced') && text.includes('POST') ? text : undefined;
    }, 'spans at the collector', 10_000, 100);
    assert.ok(exports.every((e) => e.path === '/v1/traces'));
    const spans = exports.flatMap((e) => {
      const doc = JSON.parse(e.body) as { resourceSpans: { scopeSpans: { spans: { name: string; kind: number }[] }[] }[] };
      return doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    });
    assert.ok(spans.some((s) => s.kind === 2 && s.name.startsWith('POST')), 'an HTTP server span');
    assert.ok(spans.some((s) => s.kind === 3 && /GET|SET/.test(s.name) && !s.name.startsWith('POST')), 'Redis/upstream client spans');
    assert.match(all, /mcp-server/);
    // OTEL_RESOURCE_ATTRIBUTES and the detected host join the configured resource.
    assert.match(all, /"deployment\.environment\.name","value":\{"stringValue":"tracing-test"\}/);
    assert.match(all, /"host\.name"/);
  });

  it('puts the trace id of an incoming traceparent on the request log line', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(traced.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-request-id': 'req-trace-1',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.headers.get('x-request-id'), 'req-trace-1');
    await res.text();
    const line = await waitFor(() => traced.parsedLogs().find((l) => (l.req as { id?: string } | undefined)?.id === 'req-trace-1'), 'the request log line');
    assert.equal(line.trace_id, traceId);
    assert.equal(typeof line.span_id, 'string');
    assert.equal((line.res as { statusCode: number }).statusCode, 200);
  });

  it('by default exports nothing for a request whose caller did not sample its trace', async () => {
    const call = (path: string, flags: string) =>
      fetch(traced.mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': MODERN,
          'mcp-method': 'tools/call',
          'mcp-name': 'cached_fetch',
          traceparent: `00-${flags === '01' ? '1' : '2'}bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'cached_fetch',
            arguments: { path },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': MODERN,
              'io.modelcontextprotocol/clientInfo': { name: 'tracing-test', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      }).then((r) => r.text());
    assert.match(await call('/not-sampled', '00'), /"cache":"miss"/);
    // A sampled request sent afterwards shows the exporter has flushed past the unsampled one.
    assert.match(await call('/sampled-after', '01'), /"cache":"miss"/);
    await waitFor(() => exports.some((e) => e.body.includes('/sampled-after')), 'the sampled request at the collector', 10_000, 100);
    assert.ok(!exports.some((e) => e.body.includes('/not-sampled')), 'no span of the unsampled request was exported');
  });

  it('traces the configured share of requests without a traceparent (one in ten here), and the others have no span at all', async () => {
    const ping = (headers: Record<string, string>) =>
      fetch(traced.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'user-agent': 'root-sampling', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }).then((r) => r.text());
    const N = 200;
    for (let i = 0; i < N; i++) await ping({ 'x-request-id': `root-${i}` });
    await ping({ traceparent: '00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-request-id': 'root-flush' });
    await waitFor(() => exports.some((e) => e.body.includes('5bf92f3577b34da6a3ce929d0e0e4736')), 'the flush marker at the collector', 10_000, 100);
    const spans = exports.flatMap((e) => {
      const doc = JSON.parse(e.body) as { resourceSpans: { scopeSpans: { spans: { traceId: string; kind: number; attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] };
      return doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    });
    const roots = spans.filter((s) => s.kind === 2 && s.traceId !== '5bf92f3577b34da6a3ce929d0e0e4736' && s.attributes.some((a) => a.value.stringValue === 'root-sampling'));
    // Binomial(200, 0.1): mean 20, standard deviation 4.2; these bounds fail by chance less than once in a million runs.
    assert.ok(roots.length >= 3 && roots.length <= 45, `${roots.length} of ${N} requests traced`);
    const lines = await waitFor(() => {
      const l = traced.parsedLogs().filter((x) => String((x.req as { id?: string } | undefined)?.id).startsWith('root-'));
      return l.length === N + 1 ? l : undefined;
    }, 'every request log line');
    const withTrace = lines.filter((l) => l.trace_id !== undefined && l.trace_id !== '5bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(withTrace.length, roots.length, 'exactly the traced requests carry a trace id');
    assert.deepEqual(new Set(withTrace.map((l) => l.trace_id)), new Set(roots.map((s) => s.traceId)));
  });

  it('with tracing off (OTEL_SDK_DISABLED): JSON log lines with a request id and no trace ids, even for a sampled caller', async () => {
    const res = await fetch(untraced.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', traceparent: '00-6bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    await res.text();
    const line = await waitFor(() => untraced.parsedLogs().find((l) => (l.req as { id?: string } | undefined)?.id === id), 'the request log line');
    assert.equal(line.trace_id, undefined);
    assert.equal(line.level, 'info');
    // Only these fields of the request and response: headers carry tokens and cookies.
    assert.deepEqual(line.req, { id, method: 'POST', url: '/mcp', remoteAddress: '127.0.0.1' });
    assert.deepEqual(line.res, { statusCode: 200 });
    assert.equal(untraced.parsedLogs().find((l) => l.msg === 'listening')?.tracing, false);
    assert.equal(traced.parsedLogs().find((l) => l.msg === 'listening')?.tracing, true);
  });
});
