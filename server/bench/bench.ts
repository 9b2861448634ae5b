// npm run bench: the Performance section of issue #3, in one script.
// Everything runs on loopback: Redis, a local upstream, a JWKS endpoint, an OTLP sink, this server
// (every production feature on) and a bare SDK server doing the same Redis lookup.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createClient } from 'redis';
import { callBody, CONCURRENCY, cpuSeconds, listen, load, mcpHeaders, prodEnvOverrides } from './load.js';
import { freePort, metricValue, RedisProcess, ServerProcess, Upstream, waitFor } from '../test/helpers/procs.js';

const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
// Two processes of the same build differ by up to 20% in throughput (JIT and heap-sizing
// decisions), so each round starts a fresh pair, the one started first alternating.
const ROUNDS = 3;
const SLICES_PER_ROUND = 4;
const SLICE_SECONDS = THROUGHPUT_SECONDS / (ROUNDS * SLICES_PER_ROUND);
// Load before measuring, per fresh process: the JIT keeps compiling this server's hot paths for
// about 6 s of load (the bare one's for about 4 s; counted with --trace-opt), and the goal is
// sustained throughput, not how fast each process warms up.
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 8);

type Sliced = { result: autocannon.Result; peakRssMiB: number; cpuSeconds: number };
/** Throughput over all slices; p50 as the median of the slices' p50, p99 as the worst slice's p99. */
function combine(slices: Sliced[]) {
  const total = slices.reduce((n, s) => n + s.result.requests.total, 0);
  const seconds = slices.reduce((n, s) => n + s.result.duration, 0);
  const p50s = slices.map((s) => s.result.latency.p50).sort((a, b) => a - b);
  return {
    total,
    rps: total / seconds,
    p50: p50s[Math.floor(p50s.length / 2)]!,
    p99: Math.max(...slices.map((s) => s.result.latency.p99)),
    peakRssMiB: Math.max(...slices.map((s) => s.peakRssMiB)),
    cpuMsPerRequest: (slices.reduce((n, s) => n + s.cpuSeconds, 0) * 1000) / total,
  };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Samples a process's RSS while `work` runs; returns the peak. */
async function withRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMiB: number; cpuSeconds: number }> {
  let peak = rssMiB(pid);
  const cpu0 = cpuSeconds(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 200);
  try {
    const result = await work();
    return { result, peakRssMiB: Math.max(peak, rssMiB(pid)), cpuSeconds: cpuSeconds(pid) - cpu0 };
  } finally {
    clearInterval(timer);
  }
}

/** Sequential requests on one keep-alive connection: service latency without queueing, in exact milliseconds. */
async function sequential(url: string, headers: Record<string, string>, body: (i: number) => string, seconds: number, expect: RegExp) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; i === 0 || Date.now() < end; i++) {
    const payload = body(i);
    const t0 = performance.now();
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(payload) } }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (t += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(t) : reject(new Error(`HTTP ${res.statusCode}: ${t}`))));
      });
      req.on('error', reject);
      req.end(payload);
    });
    samples.push(performance.now() - t0);
    if (!expect.test(text)) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  return { n: samples.length, p50: pct(50), p99: pct(99) };
}

function startBare(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, 'bare-server.js')], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const redis = await RedisProcess.start();
  const upstream = await Upstream.start();
  upstream.delayMs = 50;

  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwks = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  const token = await new SignJWT({ scope: 'mcp' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer('https://issuer.bench')
    .setAudience('https://mcp.bench/mcp')
    .setSubject('bench')
    .setExpirationTime('1h')
    .sign(privateKey);
  // The OTLP sink runs in its own process, as the collector sidecar does, so it takes no CPU from the load generator.
  const otlpPort = await freePort();
  const otlp = spawn(
    process.execPath,
    [
      '-e',
      `let n=0;require('http').createServer((q,s)=>{q.on('data',d=>n+=d.length);q.on('end',()=>s.writeHead(200,{'content-type':'application/json'}).end('{}'))}).listen(${otlpPort},'127.0.0.1',()=>console.log('ready'));process.on('SIGTERM',()=>{console.log(n);process.exit(0)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(otlp.stdout!, 'data');
  const otlpUrl = `http://127.0.0.1:${otlpPort}`;

  const prodEnv = {
    REDIS_URL: redis.url,
    UPSTREAM_URL: upstream.url,
    LOG_LEVEL: 'info',
    AUTH_MODE: 'jwt',
    JWKS_URL: `${jwks.url}/jwks.json`,
    JWT_ISSUER: 'https://issuer.bench',
    JWT_AUDIENCE: 'https://mcp.bench/mcp',
    MCP_RESOURCE_URL: 'https://mcp.bench/mcp',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    BREAKER_VOLUME_THRESHOLD: '5',
    BREAKER_RESET_TIMEOUT_MS: '600000',
    CACHE_TTL_SECONDS: '3600', // the hot entry must outlive the whole run
    NODE_ENV: 'production',
    ...prodEnvOverrides(),
  };
  const prodHeaders = mcpHeaders(token);
  const hotBody = callBody('/hot');
  const startProd = async () => {
    const p = await ServerProcess.start(prodEnv, { discardLogs: true });
    await sequential(p.mcpUrl, prodHeaders, () => hotBody, 0.001, /"cache":"(miss|hit)"/);
    return p;
  };

  // Warm the entry both servers will read, and find its key so the bare server looks up the same one.
  let prod = await startProd();
  const rc = createClient({ url: redis.url });
  await rc.connect();
  const [key] = await rc.keys('mcp:fetch:v1:*');
  await rc.close();
  const bareUrl = (port: number) => `http://127.0.0.1:${port}/mcp`;
  const startBareServer = async () => {
    const port = await freePort();
    const child = await startBare({ REDIS_URL: redis.url, PORT: String(port), BENCH_KEY_PREFIX: key!.slice(0, -64), NODE_ENV: 'production' });
    await sequential(bareUrl(port), mcpHeaders(), () => hotBody, 0.001, /content of \/hot #1/);
    return { child, url: bareUrl(port) };
  };

  const prodSlices: Sliced[] = [];
  const bareSlices: Sliced[] = [];
  const roundRatios: number[] = [];
  let hitsCounted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const prodFirst = round % 2 === 0;
    if (round > 0) await prod.stop();
    if (round > 0 && prodFirst) prod = await startProd();
    const bare = await startBareServer();
    if (!prodFirst) prod = await startProd();
    // Warm-up, not recorded.
    await load(prod.mcpUrl, prodHeaders, hotBody, WARMUP_SECONDS);
    await load(bare.url, mcpHeaders(), hotBody, WARMUP_SECONDS);
    const hitsBefore = metricValue(await prod.metrics(), 'mcp_cache_hits_total')!;
    const p: Sliced[] = [];
    const b: Sliced[] = [];
    // The two servers take turns in short slices, so background load on the machine hits both alike.
    for (let i = 0; i < SLICES_PER_ROUND; i++) {
      p.push(await withRss(prod.child.pid!, () => load(prod.mcpUrl, prodHeaders, hotBody, SLICE_SECONDS)));
      b.push(await withRss(bare.child.pid!, () => load(bare.url, mcpHeaders(), hotBody, SLICE_SECONDS)));
    }
    hitsCounted += metricValue(await prod.metrics(), 'mcp_cache_hits_total')! - hitsBefore;
    roundRatios.push(combine(p).rps / combine(b).rps);
    prodSlices.push(...p);
    bareSlices.push(...b);
    bare.child.kill('SIGTERM');
  }
  const prodRun = combine(prodSlices);
  const bareRun = combine(bareSlices);
  if (hitsCounted < prodRun.total) throw new Error(`only ${hitsCounted} of ${prodRun.total} requests were cache hits`);

  const hit = await sequential(prod.mcpUrl, prodHeaders, () => hotBody, LATENCY_SECONDS, /"cache":"hit"/);
  const miss = await sequential(prod.mcpUrl, prodHeaders, (i) => callBody(`/miss/${i}`), LATENCY_SECONDS, /"cache":"miss"/);

  // Each path has its own breaker: trip the one that the fail-fast requests then ask for.
  upstream.mode = 'fail';
  const open = callBody('/open');
  await waitFor(async () => {
    await sequential(prod.mcpUrl, prodHeaders, () => open, 0.3, /isError/);
    return metricValue(await prod.metrics(), 'mcp_circuit_breaker_state', { breaker: 'upstream' }) === 2;
  }, 'the breaker to open');
  const failFast = await sequential(prod.mcpUrl, prodHeaders, () => open, LATENCY_SECONDS, /circuit breaker open/);
  const openRun = await load(prod.mcpUrl, prodHeaders, open, 3);

  const ratio = prodRun.rps / bareRun.rps;
  const hitMiss = hit.p50 / miss.p50;
  const rssRatio = prodRun.peakRssMiB / bareRun.peakRssMiB;
  const f = (n: number, d = 2) => n.toFixed(d);
  const row = (...cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    `mcp-server bench: node ${process.version}, ${THROUGHPUT_SECONDS} s per server at concurrency ${CONCURRENCY} after ${WARMUP_SECONDS} s of warm-up per process, protocol 2026-07-28, loopback`,
    `throughput ratio per round (a fresh pair of processes each): ${roundRatios.map((r) => f(r)).join(', ')}`,
    '',
    row('measure', 'this server (all features)', 'bare SDK server', 'goal', 'met'),
    row('---', '---', '---', '---', '---'),
    row('cache-hit throughput (req/s)', f(prodRun.rps, 0), f(bareRun.rps, 0), `ratio >= 0.85`, `${f(ratio)} ${ratio >= 0.85 ? 'yes' : 'NO'}`),
    row('hit latency p50 / p99 at c=32 (ms)', `${prodRun.p50} / ${prodRun.p99}`, `${bareRun.p50} / ${bareRun.p99}`, '', ''),
    row('server CPU per request (ms)', f(prodRun.cpuMsPerRequest, 3), f(bareRun.cpuMsPerRequest, 3), '', ''),
    row('peak RSS under load (MiB)', f(prodRun.peakRssMiB, 0), f(bareRun.peakRssMiB, 0), 'ratio <= 1.15', `${f(rssRatio)} ${rssRatio <= 1.15 ? 'yes' : 'NO'}`),
    row('hit p50 / p99 at c=1 (ms)', `${f(hit.p50)} / ${f(hit.p99)}`, '', '', ''),
    row('miss p50 / p99 at c=1, 50 ms upstream (ms)', `${f(miss.p50)} / ${f(miss.p99)}`, '', '', ''),
    row('hit p50 / miss p50', f(hitMiss, 3), '', '<= 0.05', hitMiss <= 0.05 ? 'yes' : 'NO'),
    row('fail-fast p50 / p99 at c=1, breaker open (ms)', `${f(failFast.p50)} / ${f(failFast.p99)}`, '', 'p99 < 5', failFast.p99 < 5 ? 'yes' : 'NO'),
    row('fail-fast p50 / p99 at c=32, breaker open (ms)', `${openRun.latency.p50} / ${openRun.latency.p99}`, '', '', ''),
    '',
    `requests: ${prodRun.total} (this server), ${bareRun.total} (bare), in ${ROUNDS} rounds of ${SLICES_PER_ROUND} alternating slices each; ${hitsCounted} counted as cache hits`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  await prod.stop();
  await upstream.close();
  await redis.destroy();
  jwks.server.close();
  otlp.kill('SIGTERM');
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack}\n`);
  process.exit(1);
});
