import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { cachedFetch, connect, MODERN } from './helpers/mcp.js';
import { ServerStack, waitFor } from './helpers/procs.js';

describe('how long Redis keeps a cached response', () => {
  let stack: ServerStack;
  let redis: ReturnType<typeof createClient>;

  before(async () => {
    stack = await ServerStack.start({ CACHE_TTL_SECONDS: '30', CACHE_STALE_TTL_SECONDS: '3600' });
    redis = createClient({ url: stack.redis.url });
    await redis.connect();
  });

  after(async () => {
    redis?.destroy();
    await stack?.stop();
  });

  /** The Redis TTL of the entry for `path`, found by the key's suffix (the prefix hashes the upstream URL). */
  const ttlOf = async (path: string): Promise<number> => {
    const suffix = hash('sha256', path);
    for await (const keys of redis.scanIterator({ MATCH: 'mcp:fetch:*' })) {
      const key = keys.find((k) => k.endsWith(suffix));
      if (key) return redis.ttl(key);
    }
    return -2;
  };

  it('keeps a first answer 2 x CACHE_TTL_SECONDS, and one asked for again TTL + stale TTL', async () => {
    const client = await connect(stack.server.mcpUrl, MODERN);
    try {
      assert.equal((await cachedFetch(client, '/once')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/twice?q=1')).out?.cache, 'miss');
      const once = await ttlOf('/once');
      assert.ok(once > 55 && once <= 60, `a path asked for once lives 60 s, not ${once}`);

      assert.equal((await cachedFetch(client, '/twice?q=1')).out?.cache, 'hit');
      // The hit answers without waiting for the write that keeps the entry.
      const twice = await waitFor(async () => ((await ttlOf('/twice?q=1')) > 60 ? ttlOf('/twice?q=1') : undefined), 'the entry kept');
      assert.ok(twice > 3600 && twice <= 3630, `a path asked for again lives 3630 s, not ${twice}`);
      assert.ok((await ttlOf('/once')) <= once, 'a path asked for once is not kept longer');
    } finally {
      await client.close();
    }
  });
});
