import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { breakerStatus, cachedFetch, connect, MODERN } from './helpers/mcp.js';
import { metricValue, ServerProcess, ServerStack, sleep, Upstream, waitFor } from './helpers/procs.js';

describe('circuit breaker around the upstream', () => {
  let stack: ServerStack;
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    stack = await ServerStack.start({
      CACHE_TTL_SECONDS: '1',
      BREAKER_VOLUME_THRESHOLD: '5',
      BREAKER_ERROR_THRESHOLD_PERCENT: '50',
      BREAKER_ROLLING_WINDOW_MS: '30000',
      BREAKER_RESET_TIMEOUT_MS: '2500',
    });
    ({ upstream, server } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  it('opens past the threshold, fails fast, serves stale copies, half-opens and closes when the upstream recovers', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    const gauge = async () => metricValue(await server.metrics(), 'mcp_circuit_breaker_state', { breaker: 'upstream' });
    try {
      // A copy that will be stale by the time the upstream breaks.
      assert.equal((await cachedFetch(client, '/kept')).out?.cache, 'miss');
      await sleep(1100); // CACHE_TTL_SECONDS=1: let the copy go stale

      upstream.mode = 'fail';
      upstream.delayMs = 200;
      for (let i = 1; i <= 4; i++) {
        const r = await cachedFetch(client, `/broken/${i}`);
        assert.equal(r.result.isError, true);
        assert.match(r.text, /upstream unavailable \(upstream answered HTTP 500\) and no cached copy exists/);
        const st = await breakerStatus(client);
        // 75% errors after 3 failures, but the minimum volume (5 calls, counting the first success) keeps it closed until the 4th.
        assert.equal(st.state, i < 4 ? 'closed' : 'open', `after ${i} failures`);
      }
      assert.equal(await gauge(), 2);

      const t0 = performance.now();
      const rejected = await cachedFetch(client, '/broken/while-open');
      const failFastMs = performance.now() - t0;
      assert.equal(rejected.result.isError, true);
      assert.match(rejected.text, /circuit breaker open/);
      assert.equal(upstream.count('/broken/while-open'), 0, 'no upstream call while open');
      assert.ok(failFastMs < 150, `fail fast took ${failFastMs} ms, the upstream takes 200 ms`);

      const stale = await cachedFetch(client, '/kept');
      assert.equal(stale.result.isError, undefined);
      assert.equal(stale.out?.cache, 'stale');
      assert.equal(stale.out?.stale, true);
      assert.equal(stale.out?.staleReason, 'circuit breaker open');
      assert.equal(stale.text, 'content of /kept #1');

      const open = await breakerStatus(client);
      assert.equal(open.state, 'open');
      assert.equal(open.counters.failures, 4);
      assert.ok(open.counters.rejections! >= 2);
      const m = await server.metrics();
      assert.equal(metricValue(m, 'mcp_circuit_breaker_failures_total', { breaker: 'upstream' }), 4);
      assert.ok(metricValue(m, 'mcp_circuit_breaker_rejections_total', { breaker: 'upstream' })! >= 2);
      assert.equal((await server.ready()).body.status, 'warn', 'readiness mentions the open breaker but stays 200');

      // Half-open lets one trial through; a failed trial opens it again.
      await waitFor(async () => (await breakerStatus(client)).state === 'half-open', 'half-open', 5000, 50);
      assert.equal(await gauge(), 1);
      const trial = await cachedFetch(client, '/kept');
      assert.equal(trial.out?.cache, 'stale', 'the failed trial still serves the stale copy');
      assert.match(trial.out?.staleReason ?? '', /HTTP 500/);
      assert.equal((await breakerStatus(client)).state, 'open');

      upstream.mode = 'ok';
      upstream.delayMs = 0;
      await waitFor(async () => (await breakerStatus(client)).state === 'half-open', 'half-open again', 5000, 50);
      const fresh = await cachedFetch(client, '/kept');
      assert.equal(fresh.out?.cache, 'miss');
      assert.equal(fresh.text, 'content of /kept #3');
      const closed = await breakerStatus(client);
      assert.equal(closed.state, 'closed');
      assert.equal(await gauge(), 0);
      assert.ok(metricValue(await server.metrics(), 'mcp_circuit_breaker_successes_total', { breaker: 'upstream' })! >= 2);
      assert.equal((await cachedFetch(client, '/kept')).out?.cache, 'hit');
    } finally {
      await client.close();
    }
  });
});

describe('an upstream that does not answer in time', () => {
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    upstream = await Upstream.start();
    upstream.delayMs = 400;
    server = await ServerProcess.start({ UPSTREAM_URL: upstream.url, REDIS_URL: 'redis://127.0.0.1:1', UPSTREAM_TIMEOUT_MS: '100' });
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('counts each timeout as a breaker failure and as a timeout, in the status resource and the metrics', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    try {
      for (const path of ['/late/1', '/late/2']) assert.match((await cachedFetch(client, path)).text, /upstream timed out after 100 ms/);
      const st = await breakerStatus(client);
      assert.equal(st.counters.timeouts, 2);
      assert.equal(st.counters.failures, 2);
    } finally {
      await client.close();
    }
    const text = await server.metrics();
    assert.equal(metricValue(text, 'mcp_circuit_breaker_timeouts_total', { breaker: 'upstream' }), 2);
    assert.equal(metricValue(text, 'mcp_circuit_breaker_failures_total', { breaker: 'upstream' }), 2);
  });
});
