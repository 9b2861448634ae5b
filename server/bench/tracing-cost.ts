// npm run bench:tracing: what tracing costs per request, measured inside one server process.
// Two processes of the same build differ by up to 20% in throughput, more than tracing costs, so
// this script loads one process at a time and switches tracing off and on (bench/tracing-toggle.ts)
// in alternating 2 s phases, reading the process's CPU time from /proc. One run per sampling ratio.
import { join } from 'node:path';
import { RedisProcess, ServerProcess, Upstream } from '../test/helpers/procs.js';
import { callBody, cpuSeconds, listen, load, mcpHeaders, prodEnvOverrides } from './load.js';

const RATIOS = (process.env.BENCH_TRACE_RATIOS ?? '0,0.1,1').split(',');
const PHASES = 8;

async function main(): Promise<void> {
  const redis = await RedisProcess.start();
  const upstream = await Upstream.start();
  const sink = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  const headers = mcpHeaders();
  const body = callBody('/hot');
  process.stdout.write('| OTEL_TRACES_SAMPLER_ARG | main thread µs/request, on / off | all threads µs/request, on / off | tracing costs per request (main, all) |\n| --- | --- | --- | --- |\n');
  for (const ratio of RATIOS) {
    const server = await ServerProcess.start(
      {
        REDIS_URL: redis.url,
        UPSTREAM_URL: upstream.url,
        CACHE_TTL_SECONDS: '3600',
        NODE_ENV: 'production',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_TRACES_SAMPLER_ARG: ratio,
        NODE_OPTIONS: `--require ${join(__dirname, 'tracing-toggle.js')}`,
        ...prodEnvOverrides(),
      },
      { discardLogs: true },
    );
    const pid = server.child.pid!;
    const cpu = () => ({ main: cpuSeconds(pid, pid), all: cpuSeconds(pid) });
    const hit = () => load(server.mcpUrl, headers, body, 2).then((r) => r.requests.total);
    await load(server.mcpUrl, headers, body, 10); // warm-up: the JIT settles after about 6 s of load
    const sum = { on: { n: 0, main: 0, all: 0 }, off: { n: 0, main: 0, all: 0 } };
    for (let i = 0; i < PHASES; i++) {
      for (const phase of ['off', 'on'] as const) {
        server.child.kill(phase === 'off' ? 'SIGUSR1' : 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 100));
        const before = cpu();
        const n = await hit();
        const after = cpu();
        sum[phase].n += n;
        sum[phase].main += after.main - before.main;
        sum[phase].all += after.all - before.all;
      }
    }
    const us = (phase: 'on' | 'off', k: 'main' | 'all') => (sum[phase][k] * 1e6) / sum[phase].n;
    const f = (x: number) => x.toFixed(1);
    process.stdout.write(
      `| ${ratio} | ${f(us('on', 'main'))} / ${f(us('off', 'main'))} | ${f(us('on', 'all'))} / ${f(us('off', 'all'))} | ${f(us('on', 'main') - us('off', 'main'))}, ${f(us('on', 'all') - us('off', 'all'))} |\n`,
    );
    await server.stop();
  }
  await upstream.close();
  await redis.destroy();
  sink.server.close();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
