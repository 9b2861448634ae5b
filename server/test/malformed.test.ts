import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { essentials, send } from './helpers/http.js';
import { connect } from './helpers/mcp.js';
import { ServerProcess, ServerStack, Upstream } from './helpers/procs.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

const rawPost = (url: string, headers: Record<string, string>, body: string) =>
  send(url, { headers, body }).then((r) => ({ ...r, contentType: String(r.headers['content-type']) }));

/** Bytes on a socket, for request lines and headers that no HTTP client library will send. */
function rawRequest(port: number, text: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('close', () => resolve({ status: Number(out.split(' ')[1]), text: out.slice(out.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
  });
}

describe('malformed and hostile requests', () => {
  let stack: ServerStack;
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    stack = await ServerStack.start({
      MAX_BODY_BYTES: '65536',
      REQUEST_TIMEOUT_MS: '500',
      UPSTREAM_TIMEOUT_MS: '10000',
      ALLOWED_HOSTS: 'localhost,127.0.0.1,mcp.example.com',
      ALLOWED_ORIGINS: 'app.example.com',
    });
    ({ upstream, server } = stack);
    upstream.slowMs = 5000;
  });

  after(async () => {
    await stack?.stop();
  });

  it('answers each bad request with a 4xx JSON-RPC error, never a 500 or a crash', async () => {
    const rpc = (body: unknown) => JSON.stringify(body);
    const cases: { name: string; method?: string; headers?: Record<string, string>; body?: string; status: number; code?: number }[] = [
      { name: 'malformed JSON', body: '{"jsonrpc":"2.0",', status: 400, code: -32700 },
      { name: 'truncated JSON', body: '[{"jsonrpc"', status: 400, code: -32700 },
      { name: 'wrong content type', headers: { 'content-type': 'text/plain' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 415 },
      { name: 'form content type', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b', status: 415 },
      { name: 'no Accept for JSON and SSE', headers: { accept: 'text/html' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 406 },
      { name: 'empty body', body: '', status: 400 },
      { name: 'empty batch', body: '[]', status: 400, code: -32600 },
      { name: 'missing jsonrpc field', body: rpc({ id: 1, method: 'ping' }), status: 400, code: -32600 },
      { name: 'jsonrpc 1.0', body: rpc({ jsonrpc: '1.0', id: 1, method: 'ping' }), status: 400, code: -32600 },
      { name: 'a bare string', body: '"hello"', status: 400, code: -32600 },
      { name: 'unsupported protocol version', headers: { 'mcp-protocol-version': '1999-01-01' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 400 },
      { name: 'body over MAX_BODY_BYTES', body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70_000) } }), status: 413 },
      { name: 'nested deeper than MAX_JSON_DEPTH', body: `${'['.repeat(100)}${']'.repeat(100)}`, status: 400, code: -32600 },
      { name: 'compressed body', headers: { 'content-encoding': 'gzip' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 415, code: -32600 },
      { name: 'charset other than UTF-8', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 415, code: -32600 },
      { name: 'GET (no sessions)', method: 'GET', status: 405 },
      { name: 'DELETE (no sessions)', method: 'DELETE', status: 405 },
      { name: 'PUT', method: 'PUT', body: '{}', status: 405 },
      { name: 'Host not allowed', headers: { host: 'evil.example.net' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 403 },
      { name: 'Origin not allowed', headers: { origin: 'https://evil.example.net' }, body: rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }), status: 403 },
    ];
    assert.ok(cases.length >= 10);
    for (const c of cases) {
      // Every case twice: once with Content-Length and once chunked. /mcp has one code path, so
      // the two answers must agree but for framing.
      const [fixed, chunked] = [false, true].map((framing) => send(server.mcpUrl, { method: c.method ?? 'POST', headers: { ...JSON_HEADERS, ...c.headers }, body: c.body ?? '', chunked: framing }));
      const r = await fixed!;
      assert.deepEqual(essentials(await chunked!), essentials(r), `${c.name}: chunked and fixed-length answers differ`);
      assert.equal(r.status, c.status, `${c.name}: ${r.text}`);
      assert.match(String(r.headers['content-type']), /application\/json/, c.name);
      const body = JSON.parse(r.text) as { jsonrpc: string; error: { code: number; message: string } };
      assert.equal(body.jsonrpc, '2.0', c.name);
      assert.equal(typeof body.error.code, 'number', c.name);
      if (c.code !== undefined) assert.equal(body.error.code, c.code, c.name);
      assert.ok(!/\n\s+at /.test(r.text), `${c.name}: no stack trace`);
    }

    const ping = rpc({ jsonrpc: '2.0', id: 7, method: 'ping' });
    const [fixed, chunked] = await Promise.all([false, true].map((framing) => send(server.mcpUrl, { headers: JSON_HEADERS, body: ping, chunked: framing })));
    assert.equal(fixed!.status, 200, fixed!.text);
    assert.deepEqual(essentials(chunked!), essentials(fixed!), 'a ping answered differently when chunked');

    // Still up, and still serving.
    const client = await connect(server.mcpUrl);
    await client.ping();
    await client.close();
    assert.equal(server.child.exitCode, null);
  });

  it('answers request lines and Host headers that deeper code cannot represent with a 4xx, never a 500', async () => {
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const post = (target: string, hosts: string[]) =>
      `POST ${target} HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${ping.length}\r\nConnection: close\r\n\r\n${ping}`;
    const cases: [string, string, number][] = [
      ['TRACE', 'TRACE /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 405],
      ['absolute-form naming another host', post('http://evil.example.net/mcp', ['localhost']), 400],
      ['absolute-form with user info', post('http://evil.com@localhost/mcp', ['localhost']), 400],
      ['Host with user info', post('/mcp', ['evil.com@localhost']), 400],
      ...['localhost/x', 'localhost?x', 'localhost#x', 'localhost\\x', 'local%68ost'].map((h): [string, string, number] => [`Host ${h}`, post('/mcp', [h]), 400]),
      ['two Host headers', post('/mcp', ['localhost', 'evil.example.net']), 400],
      ['absolute-form naming this host', post(`http://127.0.0.1:${server.port}/mcp`, [`127.0.0.1:${server.port}`]), 200],
    ];
    for (const [name, text, status] of cases) {
      const r = await rawRequest(server.port, text);
      assert.equal(r.status, status, `${name}: ${r.text}`);
      if (status !== 200) assert.equal((JSON.parse(r.text) as { error: { code: number } }).error.code, -32600, name);
    }
    assert.equal(server.child.exitCode, null);
  });

  it('runs no tool for a chunked request that the per-request timeout already answered', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path: '/after-504' } } });
    const result = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(server.port, '127.0.0.1', () => {
        socket.write('POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
        const half = body.slice(0, 10);
        socket.write(`${half.length.toString(16)}\r\n${half}\r\n`);
        // The rest arrives after REQUEST_TIMEOUT_MS (500 ms) has answered 504.
        setTimeout(() => {
          const rest = body.slice(10);
          socket.end(`${rest.length.toString(16)}\r\n${rest}\r\n0\r\n\r\n`);
        }, 900);
      });
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    assert.match(result, /^HTTP\/1\.1 504 /);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(upstream.count('/after-504'), 0, 'the tool ran after its request was answered');
  });

  it('answers a declared oversize body with 413 at once, without waiting for the body', async () => {
    const t0 = performance.now();
    const r = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(server.port, '127.0.0.1', () =>
        socket.write('POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 99999999\r\n\r\n{"a":'),
      );
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    assert.match(r, /^HTTP\/1\.1 413 /, r);
    assert.match(r, /request body exceeds 65536 bytes/);
    assert.ok(performance.now() - t0 < 400, 'before REQUEST_TIMEOUT_MS (500 ms), and the connection is closed');
  });

  it('accepts an allowed Origin and Host', async () => {
    const res = await rawPost(
      server.mcpUrl,
      { ...JSON_HEADERS, origin: 'https://app.example.com', host: 'mcp.example.com:443' },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    );
    assert.equal(res.status, 200, res.text);
  });

  it('ends a request that outlives REQUEST_TIMEOUT_MS with a JSON-RPC error, on either protocol revision', async () => {
    const call = (id: number, _meta?: object) =>
      rawPost(
        server.mcpUrl,
        _meta ? { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'cached_fetch' } : JSON_HEADERS,
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path: `/slow/${id}` }, ...(_meta ? { _meta } : {}) } }),
      );
    const t0 = performance.now();
    const [modern, legacy] = await Promise.all([call(42, ENVELOPE), call(43)]);
    assert.ok(performance.now() - t0 < 3000, 'answered at the timeout, not when the upstream finished');

    assert.equal(modern.status, 504, modern.text);
    const m = JSON.parse(modern.text) as { id: number; error: { code: number } };
    assert.deepEqual([m.id, m.error.code], [42, -32001]);

    // The 2025 leg had already opened its SSE stream: the error arrives as the stream's answer.
    assert.equal(legacy.status, 200);
    const data = /^data: (.*)$/m.exec(legacy.text);
    const l = JSON.parse(data![1]!) as { id: number; error: { code: number } };
    assert.deepEqual([l.id, l.error.code], [43, -32001]);

    assert.equal((await fetch(`${server.url}/health/live`)).status, 200);
  });
});
