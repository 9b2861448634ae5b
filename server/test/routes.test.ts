import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from './helpers/http.js';
import { ServerStack } from './helpers/procs.js';

// The routes beside /mcp, which app.ts serves without a web framework: what each answers, and
// which of them the Host and Origin checks guard.
describe('routes beside /mcp', () => {
  let stack: ServerStack;
  before(async () => {
    stack = await ServerStack.start({
      AUTH_MODE: 'jwt',
      JWKS_URL: 'http://127.0.0.1:9/jwks.json',
      JWT_ISSUER: 'https://issuer.example.com',
      JWT_AUDIENCE: 'https://mcp.example.com/mcp',
      MCP_RESOURCE_URL: 'https://mcp.example.com/mcp',
      ALLOWED_ORIGINS: 'app.example.com',
    });
  });
  after(() => stack?.stop());

  const ask = (method: string, path: string, headers: Record<string, string> = {}) => {
    const url = new URL(path, stack.server.url);
    return send(url.toString(), { method, headers: { host: url.host, ...headers } });
  };
  const HEALTH = 'application/health+json; charset=utf-8';
  const JSON_TYPE = 'application/json; charset=utf-8';

  it('answers the health checks on GET and HEAD, uncached, with every route header', async () => {
    for (const path of ['/health/live', '/health/ready', '/health/live?probe=1']) {
      const got = await ask('GET', path);
      assert.equal(got.status, 200, path);
      assert.equal(got.headers['content-type'], HEALTH, path);
      assert.equal(got.headers['cache-control'], 'no-store', path);
      assert.equal(got.headers['x-deployment-color'], 'local', path);
      assert.match(String(got.headers['x-request-id']), /^[0-9a-f-]{36}$/, path);
      assert.equal((JSON.parse(got.text) as { status: string }).status, 'pass', path);
      const head = await ask('HEAD', path);
      assert.deepEqual([head.status, head.text, head.headers['content-type']], [200, '', HEALTH], path);
      // The length of the body a GET would get; readiness reports a latency, whose digits vary.
      if (path.startsWith('/health/live')) assert.equal(head.headers['content-length'], got.headers['content-length'], path);
      else assert.ok(Number(head.headers['content-length']) > 0, path);
    }
  });

  it('serves the health checks whatever the Host (target group checks send the task IP) and Origin', async () => {
    assert.equal((await ask('GET', '/health/live', { host: '10.0.3.7:8080' })).status, 200);
    assert.equal((await ask('GET', '/health/ready', { origin: 'https://evil.example' })).status, 200);
  });

  it('serves the protected resource metadata on GET and HEAD, at both URLs', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const got = await ask('GET', path);
      assert.equal(got.status, 200, path);
      assert.equal(got.headers['content-type'], JSON_TYPE, path);
      assert.equal(got.headers['cache-control'], 'public, max-age=300', path);
      assert.equal((JSON.parse(got.text) as { resource: string }).resource, 'https://mcp.example.com/mcp', path);
      assert.deepEqual([(await ask('HEAD', path)).status, (await ask('HEAD', path)).text], [200, ''], path);
    }
  });

  it('guards everything but the health checks with the Host and Origin checks', async () => {
    for (const [path, headers, message] of [
      ['/.well-known/oauth-protected-resource', { host: 'evil.example' }, 'Invalid Host: evil.example'],
      ['/nope', { host: 'evil.example' }, 'Invalid Host: evil.example'],
      ['/.well-known/oauth-protected-resource', { origin: 'https://evil.example' }, 'Invalid Origin: evil.example'],
    ] as const) {
      const got = await ask('GET', path, headers);
      assert.equal(got.status, 403, path);
      assert.deepEqual(JSON.parse(got.text), { jsonrpc: '2.0', error: { code: -32000, message }, id: null });
    }
    assert.equal((await ask('GET', '/.well-known/oauth-protected-resource', { origin: 'https://app.example.com' })).status, 200);
  });

  it('answers 404 with a JSON-RPC error for any other method or path, matched exactly', async () => {
    for (const [method, path, named] of [
      ['POST', '/health/live', 'POST /health/live'],
      ['PUT', '/health/ready', 'PUT /health/ready'],
      ['POST', '/.well-known/oauth-protected-resource', 'POST /.well-known/oauth-protected-resource'],
      ['GET', '/nope?q=1', 'GET /nope'],
      ['GET', '/', 'GET /'],
      ['GET', '/mcpx', 'GET /mcpx'],
      ['GET', '/health/live/', 'GET /health/live/'],
      ['GET', '/Health/Live', 'GET /Health/Live'],
      ['DELETE', '/nope/%ZZ', 'DELETE /nope/%ZZ'],
    ] as const) {
      const got = await ask(method, path);
      assert.equal(got.status, 404, `${method} ${path}`);
      assert.equal(got.headers['content-type'], JSON_TYPE);
      assert.deepEqual(JSON.parse(got.text), { jsonrpc: '2.0', error: { code: -32601, message: `no route for ${named}` }, id: null });
    }
  });
});
