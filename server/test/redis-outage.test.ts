import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cachedFetch, connect } from './helpers/mcp.js';
import { metricValue, RedisProcess, ServerProcess, Upstream, waitFor } from './helpers/procs.js';

describe('Redis stopped while serving', () => {
  let redis: RedisProcess;
  let upstream: Upstream;
  let server: ServerProcess;
  let strict: ServerProcess;

  before(async () => {
    redis = await RedisProcess.start();
    upstream = await Upstream.start();
    const env = { REDIS_URL: redis.url, UPSTREAM_URL: upstream.url };
    [server, strict] = await ServerProcess.startAll([env, { ...env, REDIS_REQUIRED: 'true' }]);
  });

  after(async () => {
    await Promise.all([server?.stop(), strict?.stop()]);
    await upstream?.close();
    await redis?.destroy();
  });

  it('keeps answering without the cache, reports warn (or fail when required), and recovers when Redis returns', async () => {
    const client = await connect(server.mcpUrl);
    try {
      await waitFor(async () => (await server.ready()).body.status === 'pass', 'ready to pass');
      await waitFor(async () => (await strict.ready()).body.status === 'pass', 'strict ready to pass');
      assert.equal((await cachedFetch(client, '/a')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/a')).out?.cache, 'hit');

      await redis.stop();

      const warn = await waitFor(async () => {
        const r = await server.ready();
        return r.body.status === 'warn' ? r : undefined;
      }, 'readiness to warn');
      assert.equal(warn.status, 200, 'a cache outage must not take the task out of the target group');
      assert.equal(warn.body.checks['redis:responseTime'][0].status, 'warn');

      const fail = await waitFor(async () => {
        const r = await strict.ready();
        return r.body.status === 'fail' ? r : undefined;
      }, 'strict readiness to fail');
      assert.equal(fail.status, 503);
      assert.equal(fail.body.checks['redis:responseTime'][0].status, 'fail');

      const errorsBefore = metricValue(await server.metrics(), 'mcp_cache_errors_total')!;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = await cachedFetch(client, '/b');
        assert.equal(r.result.isError, undefined);
        assert.equal(r.out?.cache, 'miss', 'served from the upstream, bypassing the cache');
        assert.equal(r.text, `content of /b #${i + 1}`);
        assert.ok(performance.now() - t0 < 1000, 'a dead Redis costs no long timeout');
      }
      assert.ok(metricValue(await server.metrics(), 'mcp_cache_errors_total')! >= errorsBefore + 3);

      await redis.start();
      await waitFor(async () => (await server.ready()).body.status === 'pass', 'readiness to pass again', 15_000);
      const back = await waitFor(async () => {
        const r = await strict.ready();
        return r.body.status === 'pass' ? r : undefined;
      }, 'strict readiness to pass again', 15_000);
      assert.equal(back.status, 200);
      assert.equal((await cachedFetch(client, '/c')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/c')).out?.cache, 'hit', 'the cache works again');
    } finally {
      await client.close();
    }
  });
});
