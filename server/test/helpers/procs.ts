import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './ports.js';

export const SERVER_ROOT = resolve(__dirname, '..', '..', '..');
export const SERVER_ENTRY = join(SERVER_ROOT, 'dist', 'index.js');

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another test file (they run in parallel) may still bind a port between freePort and its owner's bind. */
const MAX_PORT_TRIES = 5;
const lostPortRace = (output: string) => /EADDRINUSE|Address already in use/.test(output);

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws with the last error). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every process these helpers start, until it exits. */
const running = new Set<ChildProcess>();

function tracked<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

// Under `node --test`, anything a test leaves running (a before hook that failed half-way, a test
// that threw between start and stop) would keep its file's process, and with it the whole run,
// alive until CI gives up. After the file's last test, whatever is left is killed.
if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

// ---------- redis-server ----------

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface RedisOptions {
  password?: string;
  /** ACL users, each `<name> <rules...>` as redis.conf's `user` directive takes them. */
  users?: string[];
  tls?: TlsFiles;
}

export class RedisProcess {
  private child?: ChildProcess;
  private readonly dir = tempDir('mcp-redis-');
  output = '';

  private constructor(
    readonly port: number,
    private readonly opts: RedisOptions,
  ) {}

  static async start(opts: RedisOptions = {}): Promise<RedisProcess> {
    for (let attempt = 1; ; attempt++) {
      const r = new RedisProcess(await freePort(), opts);
      try {
        await r.start();
        return r;
      } catch (err) {
        await r.destroy();
        if (attempt >= MAX_PORT_TRIES || !lostPortRace(r.output)) throw err;
      }
    }
  }

  get url(): string {
    return `${this.opts.tls ? 'rediss' : 'redis'}://${this.opts.tls ? 'localhost' : '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--dir', this.dir.path, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'];
    if (this.opts.tls) {
      args.push('--port', '0', '--tls-port', String(this.port));
      args.push('--tls-cert-file', this.opts.tls.cert, '--tls-key-file', this.opts.tls.key, '--tls-ca-cert-file', this.opts.tls.ca);
      args.push('--tls-auth-clients', 'no');
    } else {
      args.push('--port', String(this.port));
    }
    if (this.opts.password) args.push('--requirepass', this.opts.password);
    for (const user of this.opts.users ?? []) args.push('--user', ...user.split(' '));
    const child = tracked(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child = child;
    this.output = '';
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${this.output}`);
        return this.output.includes('Ready to accept connections');
      },
      'redis-server to accept connections',
    );
  }

  /** SIGSTOP freezes Redis with its sockets open (a hung node, not a dead one); SIGCONT resumes it. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(sig);
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGCONT'); // a frozen Redis cannot handle SIGTERM
    if (this.child) await stopChild(this.child, 'SIGTERM');
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    this.dir.remove();
  }
}

/** A CA and a server certificate for localhost/127.0.0.1, made with openssl at test time. */
export function makeTlsFiles(dir: string): TlsFiles {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=mcp-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', ext]);
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') };
}

// ---------- a local upstream ----------

export class Upstream {
  readonly hits = new Map<string, number>();
  /** 'ok' answers 200 (paths under /fail/ get 500), 'fail' answers 500 to everything. */
  mode: 'ok' | 'fail' = 'ok';
  delayMs = 0;
  /** Paths under /slow/ take this long to answer. */
  slowMs = 3000;
  /** Ends pending delays on close, so a long slowMs does not keep the test process alive. */
  private readonly closing = new AbortController();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Upstream> {
    // Requests arrive only after listen, by which time `upstream` exists.
    const server = createServer((req: IncomingMessage, res: ServerResponse) => void upstream.handle(req, res));
    server.keepAliveTimeout = 1000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const upstream = new Upstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return upstream;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const v of this.hits.values()) n += v;
    return n;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    this.hits.set(path, this.count(path) + 1);
    const wait = (ms: number) => delay(ms, undefined, { signal: this.closing.signal }).then(() => true, () => false);
    if (this.delayMs && !(await wait(this.delayMs))) return;
    if (path.startsWith('/slow/') && !(await wait(this.slowMs))) return;
    if (this.mode === 'fail' || path.startsWith('/fail/')) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broken');
      return;
    }
    if (path.startsWith('/missing')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
      return;
    }
    if (path.startsWith('/redirect')) {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`content of ${path} #${this.count(path)}`);
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

// ---------- the server under test ----------

export class ServerProcess {
  readonly logs: string[] = [];
  stderr = '';
  private exit?: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly metricsPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get mcpUrl(): string {
    return `${this.url}/mcp`;
  }
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  /**
   * Runs `node dist/index.js` with a minimal environment plus `env`, and waits for /health/live.
   * discardLogs: stdout is still a pipe, as under the container runtime, drained by a separate
   * `cat` into /dev/null so that reading it costs the caller (a load generator) nothing.
   */
  static async start(env: Record<string, string>, opts: { discardLogs?: boolean } = {}): Promise<ServerProcess> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ServerProcess.launch(env, opts, await freePort(), await freePort());
      } catch (err) {
        if (attempt >= MAX_PORT_TRIES || !lostPortRace((err as Error).message)) throw err;
      }
    }
  }

  /** Starts several servers at once; if any fails, stops the others before throwing, so none outlives the test. */
  static async startAll<const E extends readonly Record<string, string>[]>(envs: E): Promise<{ -readonly [K in keyof E]: ServerProcess }> {
    const started = await Promise.allSettled(envs.map((env) => ServerProcess.start(env)));
    const failed = started.find((s) => s.status === 'rejected');
    if (!failed) return started.map((s) => (s as PromiseFulfilledResult<ServerProcess>).value) as { -readonly [K in keyof E]: ServerProcess };
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }

  private static async launch(env: Record<string, string>, opts: { discardLogs?: boolean }, port: number, metricsPort: number): Promise<ServerProcess> {
    const drain = opts.discardLogs ? tracked(spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] })) : undefined;
    const child = tracked(
      spawn(process.execPath, [SERVER_ENTRY], {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          DRAIN_DELAY_SECONDS: '0',
          STOP_TIMEOUT_SECONDS: '10',
          ...env,
        },
        stdio: ['ignore', drain ? drain.stdin! : 'pipe', 'pipe'],
      }),
    );
    const sp = new ServerProcess(child, port, metricsPort);
    sp.exit = once(child, 'exit').then(([code]) => code as number | null);
    let buf = '';
    drain?.stdin!.destroy(); // the server holds the pipe's write end now; cat exits when the server does
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      sp.logs.push(...lines.filter(Boolean));
    });
    child.stderr!.on('data', (d: Buffer) => (sp.stderr += d.toString()));
    try {
      // Each probe is bounded, and the child's exit ends the wait at once: whatever else answers on
      // a port it failed to bind must not hold the start up.
      const deadline = Date.now() + 10_000;
      const live = () => fetch(`${sp.url}/health/live`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      while (!(await live())) {
        if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${sp.stderr}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for the server to be live: ${sp.stderr}`);
        await sleep(50);
      }
    } catch (err) {
      await sp.stop(); // a server that never became live must not keep the test process alive
      throw err;
    }
    return sp;
  }

  parsedLogs(): Record<string, unknown>[] {
    return this.logs.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  // The health body is arbitrary JSON that each test digs into.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async ready(): Promise<{ status: number; body: Record<string, any>; contentType: string | null }> {
    const res = await fetch(`${this.url}/health/ready`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any>, contentType: res.headers.get('content-type') };
  }

  async metrics(): Promise<string> {
    return (await fetch(this.metricsUrl)).text();
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  waitExit(): Promise<number | null> {
    return this.exit!;
  }

  async stop(): Promise<number | null> {
    return stopChild(this.child, 'SIGTERM');
  }
}

/** Reads one sample value from Prometheus text, e.g. metric('mcp_cache_hits_total'). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

// ---------- the usual set ----------

/** A redis-server, a local upstream and one server wired to both (plus `env`), torn down together. */
export class ServerStack {
  private constructor(
    readonly redis: RedisProcess,
    readonly upstream: Upstream,
    readonly server: ServerProcess,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<ServerStack> {
    const redis = await RedisProcess.start();
    const upstream = await Upstream.start();
    try {
      return new ServerStack(redis, upstream, await ServerProcess.start({ REDIS_URL: redis.url, UPSTREAM_URL: upstream.url, ...env }));
    } catch (err) {
      await upstream.close();
      await redis.destroy();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.upstream.close();
    await this.redis.destroy();
  }
}
