import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { cachedFetch, connect } from './helpers/mcp.js';
import { RedisProcess, ServerProcess, sleep, Upstream, waitFor } from './helpers/procs.js';

describe('SIGTERM', () => {
  let redis: RedisProcess;
  let upstream: Upstream;

  before(async () => {
    redis = await RedisProcess.start();
    upstream = await Upstream.start();
    upstream.slowMs = 1500;
  });

  after(async () => {
    await upstream?.close();
    await redis?.destroy();
  });

  it('under concurrent load: readiness 503 at once, keeps serving through the drain delay, zero failed requests, exit 0', async () => {
    const server = await ServerProcess.start({
      REDIS_URL: redis.url,
      UPSTREAM_URL: upstream.url,
      DRAIN_DELAY_SECONDS: '2',
      STOP_TIMEOUT_SECONDS: '10',
    });
    const WORKERS = 8;
    let sending = true;
    let ok = 0;
    let sentAfterSigterm = 0;
    const failures: string[] = [];
    let sigtermAt = 0;
    let seq = 0;
    const clients = await Promise.all(Array.from({ length: WORKERS }, () => connect(server.mcpUrl)));
    const workers = clients.map(async (client, w) => {
      while (sending) {
        // Half the workers hit the cache; the others make slow upstream calls that straddle the listener closing.
        const path = w % 2 === 0 ? '/hot' : `/slow/${seq++}`;
        if (sigtermAt) sentAfterSigterm++;
        try {
          const r = await cachedFetch(client, path);
          if (r.result.isError) failures.push(`${path}: ${r.text}`);
          else ok++;
        } catch (err) {
          failures.push(`${path}: ${(err as Error).message}`);
        }
      }
    });

    await waitFor(() => ok >= 20, 'some load to be served');
    server.signal('SIGTERM');
    sigtermAt = Date.now();
    const ready = await waitFor(async () => {
      const r = await server.ready();
      return r.status === 503 ? r : undefined;
    }, 'readiness to turn 503', 500, 10);
    assert.equal(ready.body.status, 'fail');

    // The load balancer stops routing within the drain delay; model that by stopping new requests
    // a second before it ends, while slow (1.5 s) requests still run past the moment the listener closes.
    await sleep(Math.max(0, sigtermAt + 1000 - Date.now()));
    const straddler = cachedFetch(clients[1]!, '/slow/straddler').then((r) => ({ r, at: Date.now() }));
    sending = false;
    await Promise.all(workers);
    const last = await straddler;
    assert.equal(last.r.result.isError, undefined);
    assert.ok(last.at - sigtermAt > 2000, 'a request in flight when the listener closed still got its answer');
    const code = await server.waitExit();
    const elapsed = Date.now() - sigtermAt;

    assert.deepEqual(failures, []);
    assert.ok(sentAfterSigterm > 0, 'requests were sent while draining');
    assert.equal(code, 0);
    assert.ok(elapsed >= 2000, `honoured the drain delay (exited after ${elapsed} ms)`);
    assert.ok(elapsed < 10_000, `exited within STOP_TIMEOUT_SECONDS (${elapsed} ms)`);
    const msgs = server.parsedLogs().map((l) => l.msg);
    assert.ok(msgs.includes('draining: readiness now 503'));
    assert.ok(msgs.includes('shutdown complete'));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  });

  it('says Connection: close on every response from SIGTERM on, even for requests that began before it', async () => {
    upstream.slowMs = 1500;
    const server = await ServerProcess.start({ REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, DRAIN_DELAY_SECONDS: '3', STOP_TIMEOUT_SECONDS: '10' });
    const agent = new Agent({ keepAlive: true });
    const call = (path: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        // 2026-07-28 requests are answered as plain JSON, so their headers go out with the answer.
        const _meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path }, _meta } });
        const headers = {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'cached_fetch',
          'content-length': String(body.length),
        };
        request(server.mcpUrl, { method: 'POST', headers, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers.connection));
        })
          .on('error', reject)
          .end(body);
      });
    try {
      assert.equal(await call('/before'), 'keep-alive');
      const straddling = call('/slow/straddling'); // answered about 1.5 s later, inside the drain delay
      await sleep(200);
      server.signal('SIGTERM');
      await sleep(100);
      const during = call('/during');
      assert.equal(await straddling, 'close', 'a request that began before SIGTERM');
      assert.equal(await during, 'close', 'a request that began while draining');
      assert.equal(await server.waitExit(), 0);
    } finally {
      agent.destroy();
    }
  });

  it('exits 0 by the stop timeout even when a request never finishes', async () => {
    upstream.slowMs = 20_000;
    const server = await ServerProcess.start({
      REDIS_URL: redis.url,
      UPSTREAM_URL: upstream.url,
      DRAIN_DELAY_SECONDS: '0.2',
      STOP_TIMEOUT_SECONDS: '2',
      UPSTREAM_TIMEOUT_MS: '60000',
      REQUEST_TIMEOUT_MS: '60000',
    });
    const stuck = fetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path: '/slow/stuck' } } }),
    })
      .then((r) => r.text())
      .catch(() => 'closed');
    await waitFor(() => upstream.count('/slow/stuck') === 1, 'the request to reach the upstream');
    const t0 = Date.now();
    server.signal('SIGTERM');
    assert.equal(await server.waitExit(), 0);
    assert.ok(Date.now() - t0 < 2000, 'within STOP_TIMEOUT_SECONDS');
    await stuck;
  });
});
