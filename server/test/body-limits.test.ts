import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ServerProcess, Upstream, sleep } from './helpers/procs.js';

const HEAD = 'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n';
const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

/** A socket that records what the server says and when it closes. */
function open(port: number): Promise<{ socket: Socket; answer: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t0 = performance.now();
    const socket = tcpConnect(port, '127.0.0.1');
    const closed = new Promise<number>((r) => socket.on('close', () => r(performance.now() - t0)));
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('error', () => undefined); // a reset after the answer is how a refusal ends
    socket.once('connect', () => resolve({ socket, answer: () => out, closed }));
    socket.once('error', reject);
  });
}

const statusOf = (answer: string) => Number(answer.split(' ')[1]);

describe('request bodies and connections are bounded', () => {
  let upstream: Upstream;
  let server: ServerProcess;

  before(async () => {
    upstream = await Upstream.start();
    server = await ServerProcess.start({
      UPSTREAM_URL: upstream.url,
      REDIS_URL: 'redis://127.0.0.1:1',
      MAX_BODY_BYTES: '65536',
      MAX_BUFFERED_BYTES: '131072',
      BODY_TIMEOUT_MS: '300',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '8',
    });
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('answers a chunked body that grows past MAX_BODY_BYTES with 413 as soon as it does, and reads no more of it', async () => {
    const { socket, answer, closed } = await open(server.port);
    socket.write(`${HEAD}Transfer-Encoding: chunked\r\n\r\n`);
    const chunk = `${(16384).toString(16)}\r\n${'x'.repeat(16384)}\r\n`;
    let sent = 0;
    // An endless body: the answer must come while it is still being sent.
    const sender = setInterval(() => {
      if (!socket.writable) return;
      socket.write(chunk);
      sent += 16384;
    }, 5);
    const ms = await closed;
    clearInterval(sender);
    assert.equal(statusOf(answer()), 413, answer());
    assert.match(answer(), /request body exceeds 65536 bytes/);
    assert.ok(ms < 1000, `answered and closed after ${Math.round(ms)} ms`);
    assert.ok(sent < 4 * 1024 * 1024, `${sent} bytes sent before the connection closed`);
  });

  it('answers a body that stops arriving with 408 at BODY_TIMEOUT_MS and closes the connection', async () => {
    for (const framing of [`Content-Length: ${PING.length}\r\n\r\n${PING.slice(0, 10)}`, `Transfer-Encoding: chunked\r\n\r\na\r\n${PING.slice(0, 10)}\r\n`]) {
      const { socket, answer, closed } = await open(server.port);
      socket.write(`${HEAD}${framing}`);
      const ms = await closed;
      assert.equal(statusOf(answer()), 408, answer());
      assert.match(answer(), /BODY_TIMEOUT_MS/);
      assert.ok(ms >= 250 && ms < 2000, `closed after ${Math.round(ms)} ms, BODY_TIMEOUT_MS is 300 (REQUEST_TIMEOUT_MS 5000)`);
    }
  });

  it('refuses a body with 503 while others already hold MAX_BUFFERED_BYTES, and serves again once they are gone', async () => {
    // Two bodies of 60 KiB each, held open: 120 KiB of the 128 KiB budget.
    const holders = await Promise.all([open(server.port), open(server.port)]);
    for (const h of holders) h.socket.write(`${HEAD}Content-Length: 65000\r\n\r\n${'['.repeat(1)}${' '.repeat(61439)}`);
    await sleep(100);
    const late = await open(server.port);
    late.socket.write(`${HEAD}Content-Length: 20000\r\n\r\n${' '.repeat(20000)}`);
    await late.closed;
    assert.equal(statusOf(late.answer()), 503, late.answer());
    assert.match(late.answer(), /too many request bodies/);
    // The holders time out (408) and give their bytes back.
    await Promise.all(holders.map((h) => h.closed));
    const again = await open(server.port);
    again.socket.end(`${HEAD}Content-Length: ${PING.length}\r\nConnection: close\r\n\r\n${PING}`);
    await again.closed;
    assert.equal(statusOf(again.answer()), 200, again.answer());
  });

  it('accepts at most MAX_CONNECTIONS connections, and new ones again once some close', async () => {
    const sockets: Awaited<ReturnType<typeof open>>[] = [];
    let refusedAt = -1;
    for (let i = 0; i < 20 && refusedAt < 0; i++) {
      const s = await open(server.port);
      sockets.push(s);
      const closedSoon = await Promise.race([s.closed.then(() => true), sleep(50).then(() => false)]);
      if (closedSoon) refusedAt = i;
    }
    for (const s of sockets) s.socket.destroy();
    assert.ok(refusedAt >= 0 && refusedAt <= 8, `connection ${refusedAt + 1} was the first refused (MAX_CONNECTIONS is 8)`);
    await sleep(100);
    const r = await fetch(server.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: PING });
    assert.equal(r.status, 200);
  });
});
