import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import aws4 from 'aws4';
import { createClient } from 'redis';
import { ElastiCacheIamAuth } from '../src/redis-iam.js';
import { cachedFetch, connect } from './helpers/mcp.js';
import { makeTlsFiles, RedisProcess, ServerProcess, sleep, tempDir, Upstream, waitFor } from './helpers/procs.js';

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token=' };
const SIGNED_AT = new Date('2026-12-02T12:00:00Z');

describe('ElastiCache IAM authentication tokens', () => {
  const auth = new ElastiCacheIamAuth({ cacheId: 'mcp-staging-cache', userId: 'mcp-staging-server', region: 'eu-west-1', credentials: async () => CREDENTIALS, now: () => SIGNED_AT });

  it('is a presigned GET of the connect action, for the user, scoped to elasticache in the region, valid 15 minutes', async () => {
    const token = await auth.token();
    assert.ok(token.startsWith('mcp-staging-cache/?'), 'host is the replication group id, no scheme');
    const query = new URL(`http://${token}`).searchParams;
    assert.equal(query.get('Action'), 'connect');
    assert.equal(query.get('User'), 'mcp-staging-server');
    assert.equal(query.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(query.get('X-Amz-Credential'), `${CREDENTIALS.accessKeyId}/20261202/eu-west-1/elasticache/aws4_request`);
    assert.equal(query.get('X-Amz-Date'), '20261202T120000Z');
    assert.equal(query.get('X-Amz-Expires'), '900');
    assert.equal(query.get('X-Amz-SignedHeaders'), 'host');
    assert.equal(query.get('X-Amz-Security-Token'), CREDENTIALS.sessionToken);
  });

  it('carries the signature an independent SigV4 implementation (aws4) computes for the same request', async () => {
    const query = new URL(`http://${await auth.token()}`).searchParams;
    const unsigned = new URLSearchParams({ Action: 'connect', User: 'mcp-staging-server', 'X-Amz-Date': '20261202T120000Z', 'X-Amz-Expires': '900' });
    const reference = aws4.sign({ host: 'mcp-staging-cache', path: `/?${unsigned}`, method: 'GET', service: 'elasticache', region: 'eu-west-1', signQuery: true }, CREDENTIALS);
    const expected = new URL(`http://mcp-staging-cache${reference.path}`).searchParams.get('X-Amz-Signature');
    assert.match(expected ?? '', /^[0-9a-f]{64}$/);
    assert.equal(query.get('X-Amz-Signature'), expected);
  });

  it('re-authenticates the open connection on a schedule, and a reconnect ends the previous schedule', async () => {
    const tokens: string[] = [];
    let clock = SIGNED_AT.getTime();
    const ticking = new ElastiCacheIamAuth({ cacheId: 'c', userId: 'u', region: 'eu-west-1', credentials: async () => CREDENTIALS, now: () => new Date((clock += 1000)) });
    const provider = ticking.credentialsProvider((err) => assert.fail(err), 20);
    const first = await provider.subscribe({ onNext: (c) => tokens.push(`first:${c.password}`), onError: assert.fail });
    await sleep(70);
    const firstCount = tokens.length;
    assert.ok(firstCount >= 2, `re-authenticated ${firstCount} times in 70 ms at a 20 ms interval`);
    assert.equal(new Set(tokens).size, tokens.length, 'each re-authentication signs a new token');
    const second = await provider.subscribe({ onNext: (c) => tokens.push(`second:${c.password}`), onError: assert.fail });
    await sleep(70);
    assert.ok(tokens.slice(firstCount + 1).every((t) => t.startsWith('second:')), 'the first connection\'s schedule stopped at the reconnect');
    assert.equal(first[0].username, 'u');
    second[1].dispose();
  });
});

describe('a server with REDIS_IAM_USER against Redis whose default user is off', () => {
  const dir = tempDir('mcp-iam-');
  const user = 'mcp-test-server';
  // ElastiCache verifies the token with IAM; redis-server cannot, so here the user takes any password
  // ("nopass"). What is proven: the server authenticates as this user over TLS, within this access string.
  const accessString = 'on ~mcp:* -@all +get +set +ping';
  let redis: RedisProcess;
  let upstream: Upstream;
  let server: ServerProcess;
  let anonymous: ServerProcess;
  let admin: ReturnType<typeof createClient>;

  before(async () => {
    const tls = makeTlsFiles(dir.path);
    redis = await RedisProcess.start({ tls, users: ['default off', `${user} ${accessString} nopass`, 'admin on >admin-password ~* +@all'] });
    upstream = await Upstream.start();
    const env = { REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, NODE_EXTRA_CA_CERTS: tls.ca };
    const iam = { REDIS_IAM_USER: user, REDIS_IAM_CACHE_ID: 'mcp-test-cache', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey };
    [server, anonymous] = await ServerProcess.startAll([{ ...env, ...iam }, env]);
    admin = createClient({ url: redis.url, username: 'admin', password: 'admin-password', socket: { tls: true, ca: readFileSync(tls.ca) } });
    await admin.connect();
  });

  after(async () => {
    await admin?.close();
    await Promise.all([server?.stop(), anonymous?.stop()]);
    await upstream?.close();
    await redis?.destroy();
    dir.remove();
  });

  it('connects as the IAM user and caches through it', async () => {
    await waitFor(async () => (await server.ready()).body.status === 'pass' || undefined, 'IAM readiness to pass');
    const client = await connect(server.mcpUrl);
    try {
      assert.equal((await cachedFetch(client, '/iam')).out?.cache, 'miss');
      assert.equal((await cachedFetch(client, '/iam')).out?.cache, 'hit');
    } finally {
      await client.close();
    }
    assert.match(String(await admin.sendCommand(['CLIENT', 'LIST'])), new RegExp(`user=${user} `));
    assert.ok(server.logs.some((l) => l.includes('"redisAuth":"iam"')));
  });

  it('reconnects as the IAM user after its connection is killed, and caches again', async () => {
    assert.equal(await admin.sendCommand(['CLIENT', 'KILL', 'USER', user]), 1);
    await waitFor(async () => String(await admin.sendCommand(['CLIENT', 'LIST'])).includes(`user=${user}`) || undefined, 'the server to reconnect');
    const client = await connect(server.mcpUrl);
    try {
      await waitFor(async () => (await cachedFetch(client, '/iam')).out?.cache === 'hit' || undefined, 'a cache hit after the reconnect');
    } finally {
      await client.close();
    }
  });

  it('without IAM configuration the server cannot use the cache, so the test above is not vacuous', async () => {
    const ready = await anonymous.ready();
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks['redis:responseTime'][0].status, 'warn');
  });
});
