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
      // A copy that will be stale by the time the upstream breaks: asked for twice, so it is kept.
      assert.equal((await cachedFetch(client, '/kept')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/kept')).out?.cache, 'hit');
      await sleep(1100); // CACHE_TTL_SECONDS=1: let the copy go stale

      upstream.mode = 'fail';
      upstream.delayMs = 200;
      for (let i = 1; i <= 4; i++) {
        const r = await cachedFetch(client, '/kept');
        assert.equal(r.out?.cache, 'stale');
        assert.equal(r.out?.staleReason, 'upstream answered HTTP 500');
        const st = await breakerStatus(client);
        // 75% errors after 3 failures, but the minimum volume (5 calls, counting the first success) keeps it closed until the 4th.
        assert.equal(st.state, i < 4 ? 'closed' : 'open', `after ${i} failures`);
      }
      assert.equal(await gauge(), 2);
      const none = await cachedFetch(client, '/never-fetched');
      assert.match(none.text, /upstream unavailable \(upstream answered HTTP 500\) and no cached copy exists/);

      const t0 = performance.now();
      const stale = await cachedFetch(client, '/kept');
      const failFastMs = performance.now() - t0;
      assert.equal(upstream.count('/kept'), 5, 'no upstream call while open');
      assert.ok(failFastMs < 150, `fail fast took ${failFastMs} ms, the upstream takes 200 ms`);
      assert.equal(stale.result.isError, undefined);
      assert.equal(stale.out?.cache, 'stale');
      assert.equal(stale.out?.stale, true);
      assert.equal(stale.out?.staleReason, 'circuit breaker open');
      assert.equal(stale.text, 'content of /kept #1');

      const open = await breakerStatus(client);
      assert.equal(open.state, 'open');
      assert.equal(open.counters.failures, 5);
      assert.equal(open.counters.rejections, 1);
      const m = await server.metrics();
      assert.equal(metricValue(m, 'mcp_circuit_breaker_failures_total', { breaker: 'upstream' }), 5);
      assert.equal(metricValue(m, 'mcp_circuit_breaker_rejections_total', { breaker: 'upstream' }), 1);
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
      // Asked for while open (a stale copy, fast), so it half-opens again rather than being forgotten.
      assert.equal((await cachedFetch(client, '/kept')).out?.staleReason, 'circuit breaker open');
      await waitFor(async () => (await breakerStatus(client)).state === 'half-open', 'half-open again', 5000, 50);
      const fresh = await cachedFetch(client, '/kept');
      assert.equal(fresh.out?.cache, 'miss');
      assert.equal(fresh.text, 'content of /kept #7');
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

describe('one breaker per upstream path, bounded', () => {
  let stack: ServerStack;
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    stack = await ServerStack.start({
      BREAKER_VOLUME_THRESHOLD: '5',
      BREAKER_ERROR_THRESHOLD_PERCENT: '50',
      BREAKER_RESET_TIMEOUT_MS: '2000',
      BREAKER_MAX_PATHS: '3',
    });
    ({ upstream, server } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  it('a path that fails opens its own breaker only, and paths a client invents never push it out', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    try {
      for (let i = 0; i < 5; i++) assert.match((await cachedFetch(client, '/fail/a')).text, /HTTP 500/);
      assert.match((await cachedFetch(client, '/fail/a')).text, /circuit breaker open/);
      assert.equal(upstream.count('/fail/a'), 5);

      // Healthy paths still reach the upstream, more of them than the bound holds.
      for (const path of ['/p/1', '/p/2', '/p/3', '/p/4', '/p/5']) assert.equal((await cachedFetch(client, path)).out?.cache, 'miss', path);
      const st = await breakerStatus(client);
      assert.equal(st.state, 'open');
      assert.deepEqual(st.paths, { tracked: 3, open: 1, halfOpen: 0, max: 3 });
      assert.match((await cachedFetch(client, '/fail/a')).text, /circuit breaker open/, 'the open breaker was kept');
      assert.equal(upstream.count('/fail/a'), 5);
      assert.equal(metricValue(await server.metrics(), 'mcp_circuit_breaker_state', { breaker: 'upstream' }), 2);
    } finally {
      await client.close();
    }
  });

  it('counts 3xx and 4xx answers apart, as neither successes nor failures', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    try {
      const before = (await breakerStatus(client)).counters;
      for (let i = 0; i < 6; i++) assert.match((await cachedFetch(client, '/missing/x')).text, /HTTP 404/);
      assert.match((await cachedFetch(client, '/redirect/x')).text, /HTTP 302/);
      const after = (await breakerStatus(client)).counters;
      assert.equal(after.clientErrors! - before.clientErrors!, 7);
      assert.equal(after.successes, before.successes);
      assert.equal(after.failures, before.failures);
      const m = await server.metrics();
      assert.equal(metricValue(m, 'mcp_circuit_breaker_client_errors_total', { breaker: 'upstream' }), after.clientErrors);
      assert.equal(metricValue(m, 'mcp_circuit_breaker_successes_total', { breaker: 'upstream' }), after.successes);
    } finally {
      await client.close();
    }
  });

  it('forgets an open path that nobody asks for again, rather than leave it half-open', async () => {
    const client = await connect(server.mcpUrl, MODERN);
    try {
      // /fail/a was asked for while open, so it half-opens; its trial fails and opens it again.
      await waitFor(async () => (await breakerStatus(client)).state === 'half-open', 'half-open', 5000, 50);
      assert.match((await cachedFetch(client, '/fail/a')).text, /HTTP 500/);
      for (let i = 0; i < 5; i++) await cachedFetch(client, '/fail/b');
      assert.equal((await breakerStatus(client)).paths.open, 2);
      await waitFor(async () => (await breakerStatus(client)).state === 'closed', 'both forgotten', 5000, 50);
      assert.deepEqual((await breakerStatus(client)).paths, { tracked: 1, open: 0, halfOpen: 0, max: 3 });
      assert.equal(metricValue(await server.metrics(), 'mcp_circuit_breaker_state', { breaker: 'upstream' }), 0);
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
