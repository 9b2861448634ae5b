import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { AddressInfo } from "node:net";
import { COLORS, type Color } from "../config/release-manifest";
import { startLoad, startLoopback, type Loopback, type Replaced } from "./support/loopback";
import { SERVER, waitFor } from "./support/processes";

/*
 * docs/redis-auth-token-rotation.md walked on loopback: one real redis-server whose default user's
 * passwords play ElastiCache's AUTH tokens, blue and green server processes (REDIS_AUTH_TOKEN,
 * REDIS_REQUIRED=true, so a server that cannot authenticate turns unready and its errors show)
 * behind a real HAProxy at 50/50, and `cached_fetch` calls through HAProxy for the whole walk.
 *
 *   ElastiCache                        here
 *   ROTATE (old and new valid)         ACL SETUSER default >new
 *   force-new-deployment of a colour   restart(color, { REDIS_AUTH_TOKEN: new }): SIGTERM, drain, start
 *   SET (only new valid)               ACL SETUSER default <old, and close what authenticated with old
 *
 * A colour is one process here, so while it restarts the other colour carries its traffic, as the
 * live colour's other tasks do during ECS's rolling replacement (minimum healthy 100%). Redis
 * speaks plain TCP here; ElastiCache requires TLS, which changes nothing about which token works.
 */
const OLD = "Old-token-0123456789-abcdef";
const NEW = "New-token-9876543210-zyxwvu";
const CONCURRENCY = 3;
/** How long the load runs between steps. */
const STEP_MS = 800;
const PATHS = 40;

const CACHE_ERRORS = /^mcp_cache_errors_total (\d+)$/m;
const CACHE_HITS = /^mcp_cache_hits_total (\d+)$/m;
const CACHE_MISSES = /^mcp_cache_misses_total (\d+)$/m;
const counter = (text: string, series: RegExp) => Number(series.exec(text)?.[1] ?? NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

/**
 * One command through the real redis-cli, signed in as the default user with `password`: its
 * reply, or an Error when Redis refuses the password (redis-cli reports that on stderr). Time-bound.
 */
async function redis(port: number, password: string, ...command: string[]): Promise<string | Error> {
  const { stdout, stderr } = await run("redis-cli", ["-p", String(port), "--user", "default", "--pass", password, "--no-auth-warning", ...command], { timeout: 2000 });
  return /AUTH failed/.test(stderr) ? new Error(stderr.trim()) : stdout.trim();
}

/** Whether Redis accepts `password` on a new connection (ElastiCache's view of a token). */
const accepts = async (port: number, password: string) => !((await redis(port, password, "PING")) instanceof Error);

/** The 127.0.0.1:port addresses of a process's TCP connections to `port`, from Linux's /proc (Redis lists clients by address). */
function connectionsTo(pid: number, port: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const link = (() => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return "";
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode) inodes.add(inode);
  }
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells.length > 9 && inodes.has(cells[9]!) && parseInt(cells[2]!.split(":")[1]!, 16) === port)
    .map((cells) => `127.0.0.1:${parseInt(cells[1]!.split(":")[1]!, 16)}`);
}

/** An upstream that answers every path with 200. */
async function upstream(): Promise<Server> {
  const server = createServer((req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`body of ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/**
 * The walk's state: which token each colour's running process holds, and every process's last
 * metrics (a replaced one's from its drain, a running one's read at the end), since counters
 * start at zero in each new process.
 */
class Walk {
  readonly token: Record<Color, string> = { blue: OLD, green: OLD };
  readonly retired: Replaced[] = [];
  readonly steps: string[] = [];
  private readonly t0 = performance.now();

  constructor(readonly loopback: Loopback) {}

  private mark(step: string) {
    this.steps.push(`${Math.round(performance.now() - this.t0)} ms ${step}`);
  }

  /** ElastiCache's ROTATE: the new token is added, the old one stays valid. */
  async rotate() {
    expect(await redis(this.loopback.redisPort, OLD, "ACL", "SETUSER", "default", `>${NEW}`)).toBe("OK");
    this.mark("ROTATE");
  }

  /**
   * ElastiCache's SET: only the new token stays valid. Redis itself keeps a connection open that
   * authenticated with a password since removed, and ElastiCache's guide does not say what SET does
   * to such connections, so this takes the stricter reading and closes them: a procedure that is
   * only safe because old connections happen to survive would fail at the next failover or node
   * replacement. Connections that authenticated with the new token stay open, since SET changes
   * nothing for them (closing every connection, CLIENT KILL USER default, would be a failover, not
   * a SET). Both tokens are the same user's passwords, so Redis cannot tell which one a connection
   * used; the processes can, by the token they were started with.
   */
  async set(): Promise<number> {
    const port = this.loopback.redisPort;
    expect(await redis(port, NEW, "ACL", "SETUSER", "default", `<${OLD}`)).toBe("OK");
    const stale = COLORS.filter((c) => this.token[c] === OLD).flatMap((c) => connectionsTo(this.loopback.servers[c].process.pid!, port));
    for (const addr of stale) expect(await redis(port, NEW, "CLIENT", "KILL", "ADDR", addr)).toBe("1");
    this.mark(`SET (closed ${stale.length} connection(s) authenticated with the old token)`);
    return stale.length;
  }

  /** `aws ecs update-service --force-new-deployment` and `aws ecs wait services-stable` for one colour. */
  async restart(color: Color, token: string) {
    this.retired.push(await this.loopback.restart(color, { REDIS_AUTH_TOKEN: token }, 10_000));
    this.token[color] = token;
    this.mark(`${color} restarted with the ${token === NEW ? "new" : "old"} token`);
  }

  /** Every process's counter, summed: the replaced ones' last readings and the running ones' now. */
  async total(series: RegExp): Promise<number> {
    const running = await Promise.all(COLORS.map((c) => this.loopback.metrics(c)));
    return [...this.retired.map((r) => r.metrics), ...running].reduce((sum, text) => sum + counter(text, series), 0);
  }
}

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the AUTH-token rotation walk needs the built server (${SERVER}): cd server && npm run -s build`);
};

describeIfBuilt("rotating the Redis AUTH token behind a weighted load balancer", () => {
  let origin: Server;
  let loopback: Loopback | undefined;

  beforeAll(async () => {
    origin = await upstream();
  });

  // A failed step must not leave the load running (it would spin against stopped processes).
  let load: ReturnType<typeof startLoad> | undefined;
  afterEach(async () => {
    await load?.stop();
    load = undefined;
    loopback?.stop();
    loopback = undefined;
  });

  afterAll(() => origin?.close());

  /** Redis with only the old token, both colours on it and ready at 50/50, and the load running. */
  async function start() {
    const shared = {
      REDIS_AUTH_TOKEN: OLD,
      REDIS_REQUIRED: "true",
      UPSTREAM_URL: `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
      LOG_LEVEL: "error",
    };
    loopback = await startLoopback(
      { blue: { ...shared, APP_VERSION: "1.0.0" }, green: { ...shared, APP_VERSION: "1.0.0" } },
      // ACL SETUSER default on >old, at start: the default user with one password, as ElastiCache's AUTH.
      { redisArgs: ["--user", "default", "on", `>${OLD}`, "~*", "&*", "+@all"] },
    );
    await loopback.setWeights({ blue: 50, green: 50 });
    expect(await accepts(loopback.redisPort, OLD)).toBe(true);
    expect(await accepts(loopback.redisPort, NEW)).toBe(false);
    load = startLoad(loopback.url, CONCURRENCY, (id) => ({ name: "cached_fetch", arguments: { path: `/items/${id % PATHS}` } }));
    return { walk: new Walk(loopback), load, started: performance.now() };
  }

  it("serves every request, with no cache error, through ROTATE, both colours restarted one at a time, then SET", async () => {
    const { walk, load, started } = await start();
    const port = walk.loopback.redisPort;
    await sleep(STEP_MS);

    await walk.rotate();
    expect([await accepts(port, OLD), await accepts(port, NEW)]).toEqual([true, true]);
    await sleep(STEP_MS / 2);
    await walk.restart("blue", NEW);
    await sleep(STEP_MS / 2);
    await walk.restart("green", NEW);
    await sleep(STEP_MS);

    const closed = await walk.set();
    await sleep(STEP_MS * 1.5);
    await load.stop();
    const seconds = (performance.now() - started) / 1000;

    const { results } = load;
    const failed = results.filter((r) => !r.ok);
    const [errors, hits, misses] = [await walk.total(CACHE_ERRORS), await walk.total(CACHE_HITS), await walk.total(CACHE_MISSES)];
    console.log(
      `AUTH-token rotation, safe order: ${results.length} requests in ${seconds.toFixed(1)} s, ${failed.length} failed; ` +
        `cache errors ${errors}, hits ${hits}, misses ${misses}; served by blue ${results.filter((r) => r.color === "blue").length}, green ${results.filter((r) => r.color === "green").length}\n  ${walk.steps.join("\n  ")}`,
    );

    expect(failed.map((f) => f.error)).toEqual([]);
    expect(errors).toBe(0);
    expect(hits).toBeGreaterThan(100);
    expect(misses).toBeGreaterThanOrEqual(PATHS);
    expect(walk.retired.map((r) => r.exitCode)).toEqual([0, 0]);
    // Both colours served throughout: the restarts moved load, they did not stop it.
    expect(results.filter((r) => r.color === "blue").length).toBeGreaterThan(100);
    expect(results.filter((r) => r.color === "green").length).toBeGreaterThan(100);
    // Every process that still held the old token had stopped before SET.
    expect(closed).toBe(0);
    expect(await accepts(port, OLD)).toBe(false);
    expect(await accepts(port, NEW)).toBe(true);
  }, 30_000);

  it("fails requests and counts cache errors when SET comes before the colours restart", async () => {
    const { walk, load, started } = await start();
    await sleep(STEP_MS);

    await walk.rotate();
    await sleep(STEP_MS / 2);
    // The unsafe order: SET while both colours still hold the old token.
    const closed = await walk.set();
    const failedSince = (n: number) => load.results.slice(n).filter((r) => !r.ok).length;
    const before = load.results.length;
    await waitFor("requests to fail after the early SET", async () => failedSince(before) > 0, 5000);
    await sleep(STEP_MS / 2);
    const errorsWhileBroken = await walk.total(CACHE_ERRORS);

    // The way out: restart with the new token. Both colours are down already, so both at once.
    await Promise.all(COLORS.map((c) => walk.restart(c, NEW)));
    const healed = load.results.length;
    await sleep(STEP_MS);
    await load.stop();
    const seconds = (performance.now() - started) / 1000;

    const { results } = load;
    const failed = results.filter((r) => !r.ok);
    const errors = await walk.total(CACHE_ERRORS);
    console.log(
      `AUTH-token rotation, SET before the restarts: ${results.length} requests in ${seconds.toFixed(1)} s, ${failed.length} failed ` +
        `(first: ${failed[0]?.error?.slice(0, 60) ?? "none"}); cache errors ${errors}; closed ${closed} old-token connection(s)\n  ${walk.steps.join("\n  ")}`,
    );

    // At least each colour's connection.
    expect(closed).toBeGreaterThanOrEqual(COLORS.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(errorsWhileBroken).toBeGreaterThan(0);
    // Once both colours run with the new token, every request succeeds again.
    expect(results.slice(healed).filter((r) => !r.ok)).toEqual([]);
  }, 30_000);
});
