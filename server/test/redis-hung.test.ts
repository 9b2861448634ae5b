import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cachedFetch, connect } from './helpers/mcp.js';
import { RedisProcess, ServerProcess, Upstream, waitFor } from './helpers/procs.js';

describe('Redis frozen (SIGSTOP) while serving', () => {
  let redis: RedisProcess;
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    redis = await RedisProcess.start();
    upstream = await Upstream.start();
    server = await ServerProcess.start({ REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, REDIS_COMMAND_TIMEOUT_MS: '250' });
  });

  after(async () => {
    redis?.signal('SIGCONT');
    await server?.stop();
    await upstream?.close();
    await redis?.destroy();
  });

  it('answers every cached call within the command timeout plus the upstream, and heals when Redis resumes', async () => {
    const client = await connect(server.mcpUrl);
    try {
      await waitFor(async () => (await server.ready()).body.status === 'pass', 'ready to pass');
      assert.equal((await cachedFetch(client, '/frozen')).out?.cache, 'miss');

      redis.signal('SIGSTOP');
      const latencies: number[] = [];
      const calls = Array.from({ length: 20 }, async (_, i) => {
        const t0 = performance.now();
        const r = await cachedFetch(client, `/frozen/${i % 4}`);
        latencies.push(performance.now() - t0);
        assert.equal(r.result.isError, undefined, r.text);
        assert.equal(r.out?.cache, 'miss', 'served from the upstream, around the hung cache');
      });
      await Promise.all(calls);
      const worst = Math.max(...latencies);
      // Two commands (GET, SET) per call at most, each bounded by the 250 ms timeout.
      assert.ok(worst < 1000, `the slowest call took ${Math.round(worst)} ms with Redis frozen`);
      const ready = await server.ready();
      assert.equal(ready.status, 200);
      assert.equal(ready.body.checks['redis:responseTime'][0].status, 'warn');

      redis.signal('SIGCONT');
      await waitFor(async () => (await server.ready()).body.status === 'pass', 'readiness to pass again');
      await waitFor(async () => (await cachedFetch(client, '/frozen')).out?.cache === 'hit' || undefined, 'the cache to serve again');
    } finally {
      await client.close();
    }
  });
});
