import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cachedFetch, connect } from './helpers/mcp.js';
import { makeTlsFiles, RedisProcess, ServerProcess, tempDir, Upstream, waitFor } from './helpers/procs.js';

describe('Redis with TLS and AUTH, as ElastiCache in-transit encryption requires', () => {
  const dir = tempDir('mcp-tls-');
  const password = 'test-auth-token-0123456789abcdef';
  let redis: RedisProcess;
  let upstream: Upstream;
  let server: ServerProcess;
  let wrongToken: ServerProcess;

  before(async () => {
    const tls = makeTlsFiles(dir.path);
    redis = await RedisProcess.start({ tls, password });
    upstream = await Upstream.start();
    const env = { REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, NODE_EXTRA_CA_CERTS: tls.ca };
    [server, wrongToken] = await ServerProcess.startAll([
      { ...env, REDIS_AUTH_TOKEN: password },
      { ...env, REDIS_AUTH_TOKEN: 'not-the-token' },
    ]);
  });

  after(async () => {
    await Promise.all([server?.stop(), wrongToken?.stop()]);
    await upstream?.close();
    await redis?.destroy();
    dir.remove();
  });

  it('connects over rediss:// with the auth token and caches through it', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const ready = await waitFor(async () => {
      const r = await server.ready();
      return r.body.status === 'pass' ? r : undefined;
    }, 'TLS readiness to pass');
    assert.equal(ready.body.checks['redis:responseTime'][0].status, 'pass');
    const client = await connect(server.mcpUrl);
    try {
      assert.equal((await cachedFetch(client, '/tls')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/tls')).out?.cache, 'hit');
      assert.equal(upstream.count('/tls'), 1);
    } finally {
      await client.close();
    }
  });

  it('with a wrong token: Redis is reported warn, tools still answer, and no token reaches the logs', async () => {
    const ready = await wrongToken.ready();
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks['redis:responseTime'][0].status, 'warn');
    const client = await connect(wrongToken.mcpUrl);
    try {
      const r = await cachedFetch(client, '/tls-bypass');
      assert.equal(r.out?.cache, 'miss');
    } finally {
      await client.close();
    }
    const logs = [...server.logs, ...wrongToken.logs].join('\n') + server.stderr + wrongToken.stderr;
    assert.ok(!logs.includes(password) && !logs.includes('not-the-token'), 'no auth token in logs');
  });
});
