import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { ServerProcess, sleep, Upstream } from './helpers/procs.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://mcp.test/mcp';
type Mode = 'up' | '5xx' | 'html' | 'redirect' | 'down';

describe('a JWKS outage', () => {
  let upstream: Upstream;
  let jwks: Server;
  let key: CryptoKey;
  let mode: Mode = 'up';
  let tolerant: ServerProcess;
  let strict: ServerProcess;

  before(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((req, res) => {
      if (mode === 'down') return void req.socket.destroy();
      if (mode === '5xx') return void res.writeHead(503).end('unavailable');
      if (mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      if (mode === 'redirect') return void res.writeHead(302, { location: 'https://login.example.com/' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    });
    jwks.listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    upstream = await Upstream.start();
    const env = {
      UPSTREAM_URL: upstream.url,
      REDIS_URL: 'redis://127.0.0.1:1',
      AUTH_MODE: 'jwt',
      JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_CACHE_SECONDS: '1',
      MCP_RESOURCE_URL: AUDIENCE,
    };
    [tolerant, strict] = await ServerProcess.startAll([{ ...env, JWKS_MAX_STALE_SECONDS: '3600' }, { ...env, JWKS_MAX_STALE_SECONDS: '0' }]);
  });

  after(async () => {
    await Promise.all([tolerant?.stop(), strict?.stop()]);
    await upstream?.close();
    jwks?.close();
  });

  /** A fresh token each time, so no verified-token cache answers for it. */
  const call = async (server: ServerProcess) => {
    const token = await new SignJWT({ scope: 'mcp' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(`u-${Math.random()}`).setIssuedAt().setExpirationTime('5m').sign(key);
    const res = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body: await res.text() };
  };

  it('keeps verifying with the last known keys, and answers 5xx (never invalid_token) once they are too old', async () => {
    mode = 'up';
    assert.equal((await call(tolerant)).status, 200);
    assert.equal((await call(strict)).status, 200);
    for (const outage of ['5xx', 'html', 'redirect', 'down'] as const) {
      mode = outage;
      await sleep(1100); // past JWKS_CACHE_SECONDS: the next token makes jose refetch, and the fetch fails
      const kept = await call(tolerant);
      assert.equal(kept.status, 200, `${outage}: a valid token during the outage, within JWKS_MAX_STALE_SECONDS: ${kept.body}`);
      const refused = await call(strict);
      assert.ok(refused.status >= 500, `${outage}: with no usable keys the outage is a 5xx, got ${refused.status} ${refused.body}`);
      assert.doesNotMatch(refused.challenge, /invalid_token/, `${outage}: clients must not be told to re-authenticate`);
    }
    mode = 'up';
    await sleep(1100);
    assert.equal((await call(strict)).status, 200, 'fresh keys once the JWKS is back');
  });
});
