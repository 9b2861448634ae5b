import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { breakerStatus, cachedFetch, connect, LEGACY, MODERN } from './helpers/mcp.js';
import { metricValue, ServerProcess, ServerStack, Upstream, waitFor } from './helpers/procs.js';

describe('MCP over Streamable HTTP with the official client, real Redis and a local upstream', () => {
  let stack: ServerStack;
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    stack = await ServerStack.start({
      CACHE_TTL_SECONDS: '2',
      DEPLOYMENT_COLOR: 'green',
      APP_VERSION: '1.2.3',
    });
    ({ upstream, server } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  for (const revision of [LEGACY, MODERN] as const) {
    it(`serves a client on protocol revision ${revision}: initialize, list tools, server_info, resource`, async () => {
      const client = await connect(server.mcpUrl, revision);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), revision);
        assert.equal(client.getProtocolEra(), revision === MODERN ? 'modern' : 'legacy');
        assert.equal(client.getServerVersion()?.version, '1.2.3');

        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), ['cached_fetch', 'server_info']);
        const fetchTool = tools.find((t) => t.name === 'cached_fetch')!;
        assert.deepEqual(fetchTool.inputSchema.required, ['path']);

        const info = await client.callTool({ name: 'server_info', arguments: {} });
        const sc = info.structuredContent as { version: string; deploymentColor: string; uptimeSeconds: number };
        assert.equal(sc.version, '1.2.3');
        assert.equal(sc.deploymentColor, 'green');
        assert.ok(sc.uptimeSeconds >= 0);

        const breaker = await breakerStatus(client);
        assert.equal(breaker.name, 'upstream');
        assert.equal(breaker.state, 'closed');
      } finally {
        await client.close();
      }
    });

    it(`cached_fetch on ${revision}: a miss, then a hit, with one upstream request`, async () => {
      const client = await connect(server.mcpUrl, revision);
      try {
        const path = `/doc/${revision}`;
        const before = await server.metrics();
        const first = await cachedFetch(client, path);
        assert.equal(first.result.isError, undefined);
        assert.equal(first.out?.cache, 'miss');
        assert.equal(first.text, `content of ${path} #1`);
        const second = await cachedFetch(client, path);
        assert.equal(second.out?.cache, 'hit');
        assert.equal(second.text, first.text);
        assert.equal(upstream.count(path), 1);

        const after = await server.metrics();
        assert.equal(metricValue(after, 'mcp_cache_hits_total')! - metricValue(before, 'mcp_cache_hits_total')!, 1);
        assert.equal(metricValue(after, 'mcp_cache_misses_total')! - metricValue(before, 'mcp_cache_misses_total')!, 1);
      } finally {
        await client.close();
      }
    });
  }

  it('refetches once CACHE_TTL_SECONDS has passed', async () => {
    const client = await connect(server.mcpUrl);
    try {
      const path = '/ttl';
      const t0 = Date.now();
      assert.equal((await cachedFetch(client, path)).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, path)).out?.cache, 'hit');
      const refetched = await waitFor(async () => {
        const r = await cachedFetch(client, path);
        return r.out?.cache === 'miss' ? r : undefined;
      }, 'the cache entry to expire', 10_000, 100);
      assert.ok(Date.now() - t0 >= 1900, 'the entry stayed fresh for the TTL');
      assert.equal(refetched.text, `content of ${path} #2`);
      assert.equal(upstream.count(path), 2);
    } finally {
      await client.close();
    }
  });

  it('refuses SSRF attempts without calling anything', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    try {
      const attempts = [
        'http://169.254.169.254/latest/meta-data/',
        'https://example.com/',
        'file:///etc/passwd',
        '//169.254.169.254/latest/meta-data/',
        '/../../etc/passwd',
        '/a/../../b',
        '/%2e%2e/secret',
        '/a/%252e%252e/%252e%252e/b',
        '/a\\..\\b',
        '@169.254.169.254/',
        'relative/path',
        '/%2f%2f169.254.169.254/x',
        '/ok\r\nHost: evil',
        '/%zz',
      ];
      const total = upstream.total;
      for (const path of attempts) {
        const r = await cachedFetch(client, path);
        assert.equal(r.result.isError, true, `refused: ${path}`);
        assert.match(r.text, /^path refused: /, path);
      }
      assert.equal(upstream.total, total, 'the upstream saw none of them');

      const redirect = await cachedFetch(client, '/redirect-to-metadata');
      assert.equal(redirect.result.isError, true);
      assert.match(redirect.text, /HTTP 302/, 'redirects are reported, never followed');

      const missing = await cachedFetch(client, '/missing/thing');
      assert.equal(missing.result.isError, true);
      assert.match(missing.text, /HTTP 404/);
      assert.equal((await breakerStatus(client)).state, 'closed', 'a 404 is an answer, not an outage');
    } finally {
      await client.close();
    }
  });

  it('tags every HTTP response with the colour and version that answered', async () => {
    const responses = await Promise.all([
      fetch(server.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }),
      fetch(server.mcpUrl, { method: 'POST', body: '{' }),
      fetch(`${server.url}/health/live`),
      fetch(`${server.url}/health/ready`),
      fetch(`${server.url}/nowhere`),
      fetch(server.metricsUrl),
    ]);
    for (const res of responses) {
      assert.equal(res.headers.get('x-deployment-color'), 'green', res.url);
      assert.equal(res.headers.get('x-app-version'), '1.2.3', res.url);
      await res.arrayBuffer();
    }
  });

  it('reports ready with an application/health+json body', async () => {
    const ready = await server.ready();
    assert.equal(ready.status, 200);
    assert.match(ready.contentType ?? '', /^application\/health\+json/);
    assert.equal(ready.body.status, 'pass');
    assert.equal(ready.body.version, '1.2.3');
    const redisCheck = ready.body.checks['redis:responseTime'][0];
    assert.equal(redisCheck.status, 'pass');
    assert.equal(redisCheck.observedUnit, 'ms');
    assert.equal(typeof redisCheck.observedValue, 'number');
  });

  it('serves /metrics on its own port only, in a form promtool accepts', async () => {
    const text = await server.metrics();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool must be installed (apt-get install prometheus)');
    assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);

    for (const [name, type] of [
      ['mcp_request_duration_seconds', 'histogram'],
      ['mcp_cache_hits_total', 'counter'],
      ['mcp_cache_misses_total', 'counter'],
      ['mcp_cache_errors_total', 'counter'],
      ['mcp_circuit_breaker_state', 'gauge'],
      ['mcp_circuit_breaker_successes_total', 'counter'],
      ['mcp_circuit_breaker_failures_total', 'counter'],
      ['mcp_circuit_breaker_rejections_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
    ] as const) {
      assert.match(text, new RegExp(`^# TYPE ${name.replace(/_total$/, '')}(_total)? ${type}$`, 'm'), name);
    }
    assert.ok(
      metricValue(text, 'mcp_request_duration_seconds_count', { method: 'tools/call', tool: 'cached_fetch', outcome: 'success' })! > 0,
    );
    assert.ok(metricValue(text, 'mcp_request_duration_seconds_count', { method: 'tools/call', tool: 'cached_fetch', outcome: 'tool_error' })! > 0);
    assert.match(text, /mcp_request_duration_seconds_bucket\{le="0.001",/);
    assert.match(text, /mcp_request_duration_seconds_bucket\{le="10",/);
    assert.equal(metricValue(text, 'mcp_circuit_breaker_state', { breaker: 'upstream' }), 0);

    const onMcpPort = await fetch(`${server.url}/metrics`);
    assert.equal(onMcpPort.status, 404, 'the load-balanced port does not expose metrics');
  });
});
