import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { NestingScanner } from '../src/jsonrpc.js';
import { ServerProcess, Upstream } from './helpers/procs.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

/** One POST, with Content-Length or chunked. */
function post(url: string, body: string, chunked: boolean): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers = chunked ? HEADERS : { ...HEADERS, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    if (chunked) for (let i = 0; i < body.length; i += 65536) req.write(body.slice(i, i + 65536));
    req.end(chunked ? undefined : body);
  });
}

const nested = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

describe('the nesting scan', () => {
  const deeper = (max: number, ...chunks: string[]) => {
    const scanner = new NestingScanner(max);
    return chunks.some((c) => scanner.feed(Buffer.from(c)));
  };

  it('counts arrays and objects, not brackets in strings, across chunk boundaries', () => {
    assert.equal(deeper(2, '[{"a":', '1}]'), false);
    assert.equal(deeper(2, '[{"a":', '[1]}]'), true);
    assert.equal(deeper(1, '["[[[', '{{"]'), false, 'brackets inside a string');
    assert.equal(deeper(1, '["a\\\\', '"', ',[1]]'), true, 'an escaped backslash before the quote: the string closes');
    assert.equal(deeper(1, '["a\\', '"[[["]'), false, 'a quote escaped across the chunk boundary keeps the string open');
    assert.equal(deeper(3, '{"k":"\u005b"}'), false);
  });
});

describe('deeply nested JSON', () => {
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    upstream = await Upstream.start();
    server = await ServerProcess.start({ UPSTREAM_URL: upstream.url, REDIS_URL: 'redis://127.0.0.1:1', MAX_JSON_DEPTH: '32' });
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  for (const chunked of [false, true]) {
    it(`is refused with 400 -32600 before it is parsed (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      // 1 MB of 500 000 '[' and 500 000 ']': JSON.parse alone overflows the stack on this.
      const r = await post(server.mcpUrl, nested(500_000, ''), chunked);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(JSON.parse(r.text), { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request: JSON nested deeper than 32 levels (MAX_JSON_DEPTH)' }, id: null });
      // Brackets inside strings do not count.
      const quoted = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'server_info', arguments: { note: nested(100) } } });
      assert.equal((await post(server.mcpUrl, quoted, chunked)).status, 200);
      const atLimit = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'server_info', arguments: { a: JSON.parse(nested(28)) } } });
      assert.equal((await post(server.mcpUrl, atLimit, chunked)).status, 200);
    });
  }

  it('keeps serving everyone else while four clients send nested bodies', async () => {
    const attack = nested(500_000, '');
    let attacking = true;
    const attackers = Array.from({ length: 4 }, async () => {
      while (attacking) await post(server.mcpUrl, attack, false);
    });
    const pings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await post(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' }), false);
      assert.equal(r.status, 200);
      pings.push(r.ms);
    }
    attacking = false;
    await Promise.all(attackers);
    pings.sort((a, b) => a - b);
    assert.ok(pings[10]! < 200, `ping p50 ${Math.round(pings[10]!)} ms under the flood`);
    assert.equal((await fetch(`${server.url}/health/live`)).status, 200);
  });
});
