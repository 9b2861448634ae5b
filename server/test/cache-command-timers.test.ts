import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Cache } from '../src/cache.js';
import { loadConfig } from '../src/config.js';
import { createMetrics } from '../src/metrics.js';
import { RedisProcess, waitFor } from './helpers/procs.js';

// A cache hit must not leave timers behind: node-redis's default command timeout arms an
// AbortSignal.timeout per command that outlives the answer by seconds.
describe('timers a cache command leaves behind', () => {
  let redis: RedisProcess;
  let cache: Cache;
  before(async () => {
    redis = await RedisProcess.start();
    cache = new Cache(loadConfig({ REDIS_URL: redis.url, UPSTREAM_URL: 'http://127.0.0.1:9' }), createMetrics(), pino({ level: 'silent' }));
    cache.connect();
    await waitFor(() => cache.client.isReady, 'the cache to connect');
  });
  after(async () => {
    await cache?.close();
    await redis?.destroy();
  });

  it('arms no AbortSignal.timeout, and clears its own command timer once Redis answers', async () => {
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    let armed = 0;
    AbortSignal.timeout = (ms: number) => (armed++, timeout(ms));
    try {
      await cache.set('k', { body: 'b', contentType: 'text/plain', status: 200, fetchedAt: Date.now() }, 60);
      for (let i = 0; i < 50; i++) assert.equal((await cache.get('k'))?.body, 'b');
    } finally {
      AbortSignal.timeout = timeout;
    }
    assert.equal(armed, 0, `${armed} AbortSignal.timeout armed for 51 commands`);
    // Only the process's own handles remain: no command timer is left pending.
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
    assert.ok(timers.length <= 1, `${timers.length} timers pending after the commands answered`);
  });
});
