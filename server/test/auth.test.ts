import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { essentials, send } from './helpers/http.js';
import { cachedFetch, connect, MODERN } from './helpers/mcp.js';
import { ServerProcess, ServerStack, Upstream } from './helpers/procs.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://mcp.test/mcp';
const RESOURCE = 'https://mcp.example.com/mcp';

describe('AUTH_MODE=jwt', () => {
  let stack: ServerStack;
  let upstream: Upstream;
  let server: ServerProcess;
  let jwks: Server;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  const tokens: string[] = [];

  const sign = async (opts: { key?: CryptoKey; aud?: string; iss?: string; exp?: number | string } = {}) => {
    const t = await new SignJWT({ scope: 'mcp', client_id: 'test-client' })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? key);
    tokens.push(t);
    return t;
  };

  before(async () => {
    ({ privateKey: key } = await generateKeyPair('RS256'));
    const pair = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    key = pair.privateKey;
    ({ privateKey: otherKey } = await generateKeyPair('RS256'));
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
    jwks.listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    stack = await ServerStack.start({
      AUTH_MODE: 'jwt',
      JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      MCP_RESOURCE_URL: RESOURCE,
    });
    ({ upstream, server } = stack);
  });

  after(async () => {
    await stack?.stop();
    jwks?.close();
  });

  const HEADERS = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    // Forged: the challenge and the metadata must still name the configured resource.
    'x-forwarded-proto': 'gopher',
  };
  const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path: '/secret' } } });
  const callTool = (authorization?: string) => fetch(server.mcpUrl, { method: 'POST', headers: { ...HEADERS, ...(authorization ? { authorization } : {}) }, body: CALL });

  it('refuses a missing, forged, wrong-audience, wrong-issuer or expired token with 401 and runs no tool', async () => {
    const cases: [string, string | undefined][] = [
      ['no token', undefined],
      ['not a bearer token', 'Basic dXNlcjpwYXNz'],
      ['garbage', 'Bearer not-a-jwt'],
      ['bad signature', `Bearer ${await sign({ key: otherKey })}`],
      ['wrong audience', `Bearer ${await sign({ aud: 'https://other.test/mcp' })}`],
      ['wrong issuer', `Bearer ${await sign({ iss: 'https://evil.test' })}`],
      ['expired', `Bearer ${await sign({ exp: Math.floor(Date.now() / 1000) - 3600 })}`],
    ];
    for (const [name, authorization] of cases) {
      const res = await callTool(authorization);
      assert.equal(res.status, 401, name);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /, name);
      assert.match(challenge, /resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/, name);
      const body = (await res.json()) as { error: string };
      assert.equal(body.error, 'invalid_token', name);
      // The same refusal when the body comes chunked: /mcp has one code path.
      const request = { headers: { ...HEADERS, ...(authorization ? { authorization } : {}) }, body: CALL };
      const [fixed, chunked] = await Promise.all([send(server.mcpUrl, request), send(server.mcpUrl, { ...request, chunked: true })]);
      assert.deepEqual(essentials(chunked), essentials(fixed), `${name}: chunked and fixed-length answers differ`);
      assert.equal(fixed.status, 401, name);
    }
    assert.equal(upstream.count('/secret'), 0, 'no tool ran');
  });

  it('serves a valid token, on both protocol revisions', async () => {
    const good = await sign();
    const res = await callTool(`Bearer ${good}`);
    assert.equal(res.status, 200);
    await res.text();
    for (const revision of ['2025-11-25', MODERN] as const) {
      const client = await connect(server.mcpUrl, revision, { authorization: `Bearer ${good}` });
      try {
        const r = await cachedFetch(client, '/authorised');
        assert.equal(r.result.isError, undefined);
      } finally {
        await client.close();
      }
    }
  });

  it('publishes protected resource metadata and keeps health and metrics open', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await fetch(`${server.url}${path}`, { headers: { 'x-forwarded-proto': 'gopher' } });
      assert.equal(res.status, 200, path);
      const doc = (await res.json()) as { resource: string; authorization_servers: string[] };
      assert.equal(doc.resource, RESOURCE);
      assert.deepEqual(doc.authorization_servers, [ISSUER]);
    }
    assert.equal((await fetch(`${server.url}/health/live`)).status, 200);
    assert.equal((await server.ready()).status, 200);
    assert.equal((await fetch(server.metricsUrl)).status, 200);
  });

  it('never logs a token', () => {
    const logs = server.logs.join('\n') + server.stderr;
    for (const t of tokens) assert.ok(!logs.includes(t), 'token found in logs');
    assert.ok(!/authorization/i.test(logs), 'no authorization header in logs');
  });
});
