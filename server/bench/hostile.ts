// npm run bench:hostile: issue 12's performance goals for hostile input, each against a baseline
// measured in the same run. Loopback only: Redis, a local upstream and this server.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { callBody, cpuSeconds, mcpHeaders } from './load.js';
import { freePort, RedisProcess, ServerProcess, Upstream, waitFor } from '../test/helpers/procs.js';

const N = Number(process.env.BENCH_REQUESTS ?? 200);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

// Pings and the nested bodies go as 2025-11-25 requests; cached_fetch calls in the 2026 form.
const LEGACY: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

function post(url: string, body: string, base: Record<string, string> = LEGACY): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers = { ...base, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const ms = (v: number) => `${v.toFixed(2)} ms`;

/** `n` requests one after another; their latencies, and each one's status checked. */
async function sequential(url: string, body: (i: number) => string, status: number, n = N, headers: Record<string, string> = LEGACY): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(url, body(i), headers);
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}`);
    out.push(r.ms);
  }
  return out;
}

const ping = (i: number) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' });
const NESTED = `${'['.repeat(500_000)}${']'.repeat(500_000)}`; // 1 MB
/** Four clients sending NESTED back to back, forever (argv[1]: the /mcp URL). */
const FLOODER = `
  const http = require('node:http');
  const body = Buffer.from('['.repeat(500000) + ']'.repeat(500000));
  const agent = new http.Agent({ keepAlive: true });
  const headers = ${JSON.stringify({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' })};
  const send = () => http.request(process.argv[1], { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => { res.resume(); res.on('end', send); }).on('error', send).end(body);
  for (let i = 0; i < 4; i++) send();
`;

/**
 * A bare node:http server (argv[1]: its port) that reads each body to its end and answers 400, as
 * this server does with a nested body: the floor that the machine itself sets under the flood.
 */
const DRAINER = `
  require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{}'));
  }).listen(Number(process.argv[1]), '127.0.0.1', () => process.send('ready'));
`;

/** Ping p50 on `server` while FLOODER sends to `target`. */
async function pingUnderFlood(server: string, target: string): Promise<number> {
  const flooder = spawn(process.execPath, ['-e', FLOODER, target], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    return percentile(await sequential(server, ping, 200), 50);
  } finally {
    flooder.kill();
  }
}

async function main(): Promise<void> {
  const redis = await RedisProcess.start();
  const upstream = await Upstream.start();
  upstream.delayMs = 20;
  const server = await ServerProcess.start({ REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, LOG_LEVEL: 'warn'}, { discardLogs: true });
  const pid = server.child.pid!;
  try {
    await waitFor(async () => (await server.ready()).body.status === 'pass', 'the server to be ready');
    await sequential(server.mcpUrl, ping, 200, 100); // warm-up

    console.log('## Deeply nested bodies (1 MB: 500 000 [ then 500 000 ])');
    const flat = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(NESTED.length - 60) } });
    const flatMs = await sequential(server.mcpUrl, () => flat, 200);
    const cpu0 = cpuSeconds(pid);
    const nestedMs = await sequential(server.mcpUrl, () => NESTED, 400);
    const cpuPerRejection = ((cpuSeconds(pid) - cpu0) * 1000) / N;
    console.log(`rejected nested body: p50 ${ms(percentile(nestedMs, 50))}, p99 ${ms(percentile(nestedMs, 99))}, server CPU ${ms(cpuPerRejection)} per rejection (goal: under 2 ms)`);
    console.log(`baseline, a flat 1 MB ping served: p50 ${ms(percentile(flatMs, 50))}, p99 ${ms(percentile(flatMs, 99))}; nested/flat p99 ${(percentile(nestedMs, 99) / percentile(flatMs, 99)).toFixed(2)}x`);

    const idle = percentile(await sequential(server.mcpUrl, ping, 200), 50);
    // The flooders run in their own process, so their writes do not delay the pings' event loop.
    const flooded = await pingUnderFlood(server.mcpUrl, server.mcpUrl);
    console.log(`ping p50 idle ${ms(idle)}, under 4 nested flooders ${ms(flooded)}: ${(flooded / idle).toFixed(2)}x (goal: within 2x)`);
    // The same flood sent to a bare server that drains it, while the pings still go to this one: what
    // two cores shared by the flooder, a second server and the pinging client cost by themselves.
    const drainerPort = await freePort();
    const drainer = spawn(process.execPath, ['-e', DRAINER, String(drainerPort)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((r) => drainer.once('message', r));
    const drainerUrl = `http://127.0.0.1:${drainerPort}/`;
    const floor = await pingUnderFlood(server.mcpUrl, drainerUrl);
    // What receiving and draining the megabyte costs a process that does nothing else with it.
    await sequential(drainerUrl, () => NESTED, 400, 20); // warm-up
    const drainerCpu0 = cpuSeconds(drainer.pid!);
    await sequential(drainerUrl, () => NESTED, 400);
    const drainerCpu = ((cpuSeconds(drainer.pid!) - drainerCpu0) * 1000) / N;
    drainer.kill();
    console.log(`baseline, the flood sent to a bare node:http server that drains it: ping p50 ${ms(floor)} (${(floor / idle).toFixed(2)}x idle); this server's own share: ${(flooded / floor).toFixed(2)}x`);
    console.log(`baseline, the same ${N} nested bodies sent to that bare server: ${ms(drainerCpu)} of its CPU per body; this server's rejection costs ${(cpuPerRejection / drainerCpu).toFixed(2)}x that`);

    console.log('\n## Cached tools/call with Redis frozen (SIGSTOP), upstream answering in 20 ms, REDIS_COMMAND_TIMEOUT_MS=250');
    const misses = await sequential(server.mcpUrl, (i) => callBody(`/bench/miss/${i}`, i), 200, 50, mcpHeaders());
    redis.signal('SIGSTOP');
    const frozen = await sequential(server.mcpUrl, (i) => callBody(`/bench/frozen/${i % 10}`, i), 200, 50, mcpHeaders());
    redis.signal('SIGCONT');
    const goal = 2 * 250 + percentile(misses, 99);
    console.log(`baseline, cache misses with Redis up: p99 ${ms(percentile(misses, 99))}`);
    console.log(`Redis frozen: p50 ${ms(percentile(frozen, 50))}, p99 ${ms(percentile(frozen, 99))} (goal: under 2 x 250 ms + the miss p99 = ${ms(goal)}): ${(percentile(frozen, 99) / goal).toFixed(2)}x of the goal`);
  } finally {
    redis.signal('SIGCONT');
    await server.stop();
    await upstream.close();
    await redis.destroy();
    agent.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
