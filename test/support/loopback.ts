import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COLORS, type Color } from "../../config/release-manifest";
import { exited, freePort, haproxyCommand, SERVER, waitFor } from "./processes";

/*
 * The loopback stand-in for one environment: a blue and a green server process (the built
 * server), one Redis, and a real HAProxy holding the colours as weighted backends the way the
 * ALB's production listener holds the target groups. HAProxy's runtime API plays the listener.
 */

export interface LoopbackServer {
  readonly process: ChildProcess;
  readonly port: number;
  readonly metricsPort: number;
}

export interface LoopbackOptions {
  /** Arguments added to redis-server's command line, such as a password for the default user. @default none */
  readonly redisArgs?: string[];
}

/** What a replaced server left behind. */
export interface Replaced {
  readonly exitCode: number | null;
  /** Its last Prometheus text, read while it drained: its counters end with it. */
  readonly metrics: string;
}

export interface Loopback {
  /** The MCP endpoint behind HAProxy. */
  readonly url: string;
  /** Each colour's current server process (restart replaces it). */
  readonly servers: Record<Color, LoopbackServer>;
  /** The port of the Redis both colours share (127.0.0.1). */
  readonly redisPort: number;
  /** Both weights in one runtime API call, as one ModifyListener call sets both target groups. */
  setWeights(weights: Record<Color, number>): Promise<void>;
  weights(): Promise<Record<Color, number>>;
  /** The colour's Prometheus text, as its telemetry sidecar scrapes it. */
  metrics(color: Color): Promise<string>;
  /**
   * Replaces one colour's server as a forced new deployment replaces a task: SIGTERM (it drains,
   * and HAProxy sends its share to the other colour), then a new process on the same ports with
   * `env` over the colour's variables, resolved once it is ready and HAProxy has it UP again.
   * Nothing serves the colour in between, so the other one needs weight.
   */
  restart(color: Color, env?: Record<string, string>, timeoutMs?: number): Promise<Replaced>;
  stop(): void;
}

/** Starts blue at 100 and green at 0; `env` gives each colour's own variables (version, upstream, ...) over the shared ones. */
export async function startLoopback(env: Record<Color, Record<string, string>>, options: LoopbackOptions = {}): Promise<Loopback> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loopback-"));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const redisPort = await freePort();
    children.push(spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...(options.redisArgs ?? [])], { stdio: "ignore" }));

    const colorEnv = { ...env };
    const spawnServer = (color: Color, port: number, metricsPort: number): LoopbackServer => {
      const child = spawn(process.execPath, [SERVER], {
        env: {
          ...process.env,
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          HOST: "127.0.0.1",
          DEPLOYMENT_COLOR: color,
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          // Nothing listens on the discard port: only tools that reach the upstream notice.
          UPSTREAM_URL: "http://127.0.0.1:9",
          DRAIN_DELAY_SECONDS: "1",
          STOP_TIMEOUT_SECONDS: "10",
          LOG_LEVEL: "warn",
          ...colorEnv[color],
        },
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.push(child);
      return { process: child, port, metricsPort };
    };
    const ready = (color: Color, timeoutMs?: number) =>
      waitFor(`${color} to be ready`, async () => (await fetch(`http://127.0.0.1:${servers[color].port}/health/ready`)).ok, timeoutMs);

    const servers = {} as Record<Color, LoopbackServer>;
    for (const color of COLORS) servers[color] = spawnServer(color, await freePort(), await freePort());
    for (const color of COLORS) await ready(color);

    const frontend = await freePort();
    const socket = path.join(dir, "admin.sock");
    const config = path.join(dir, "haproxy.cfg");
    // What the ALB holds: weighted targets, health-checked on /health/ready, connections reused.
    fs.writeFileSync(
      config,
      [
        "global",
        `  stats socket ${socket} mode 600 level admin`,
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 30s",
        "  timeout server 30s",
        "  timeout http-keep-alive 60s",
        // Without it a check times out after `inter` (200 ms), and on a busy machine a slow but
        // healthy server is marked down: 503s that no release caused. The ALB's checks wait 5 s.
        "  timeout check 2s",
        "frontend mcp",
        `  bind 127.0.0.1:${frontend}`,
        "  default_backend colors",
        "backend colors",
        "  balance roundrobin",
        "  option httpchk GET /health/ready",
        "  http-check expect status 200",
        "  default-server inter 200ms fall 2 rise 1",
        `  server blue 127.0.0.1:${servers.blue.port} weight 100 check`,
        `  server green 127.0.0.1:${servers.green.port} weight 0 check`,
        "",
      ].join("\n"),
    );
    children.push(spawn("haproxy", ["-f", config, "-db", "-q"], { stdio: ["ignore", "ignore", "inherit"] }));
    await waitFor("haproxy", async () => (await fetch(`http://127.0.0.1:${frontend}/health/live`)).ok);

    const metrics = async (color: Color) => (await fetch(`http://127.0.0.1:${servers[color].metricsPort}/metrics`)).text();
    /** HAProxy's view of a colour's server: UP, DOWN, MAINT, ... (`show stat`'s status column). */
    const status = async (color: Color) => {
      const [header, ...rows] = (await haproxyCommand(socket, "show stat")).split("\n");
      const column = header!.replace(/^# /, "").split(",").indexOf("status");
      return rows.map((row) => row.split(",")).find((cells) => cells[0] === "colors" && cells[1] === color)?.[column];
    };

    return {
      url: `http://127.0.0.1:${frontend}/mcp`,
      servers,
      redisPort,
      setWeights: async (weights) => {
        await haproxyCommand(socket, COLORS.map((c) => `set server colors/${c} weight ${weights[c]}`).join("; "));
      },
      weights: async () => {
        // `get weight` answers "<current> (initial <configured>)".
        const [blue, green] = await Promise.all(COLORS.map(async (c) => parseInt(await haproxyCommand(socket, `get weight colors/${c}`), 10)));
        return { blue: blue!, green: green! };
      },
      metrics,
      restart: async (color, changes = {}, timeoutMs = 15_000) => {
        const old = servers[color];
        let last = "";
        const exit = exited(old.process);
        let gone = false;
        void exit.then(() => (gone = true));
        old.process.kill("SIGTERM");
        // Read until the process exits: its metrics listener closes only after its last request was answered.
        const deadline = Date.now() + timeoutMs;
        while (!gone) {
          if (Date.now() > deadline) {
            old.process.kill("SIGKILL");
            throw new Error(`${color} did not exit within ${timeoutMs} ms of SIGTERM`);
          }
          last = await metrics(color).catch(() => last);
          await new Promise((r) => setTimeout(r, 50));
        }
        colorEnv[color] = { ...colorEnv[color], ...changes };
        servers[color] = spawnServer(color, old.port, old.metricsPort);
        await ready(color, timeoutMs);
        await waitFor(`HAProxy to see ${color} UP`, async () => (await status(color)) === "UP", timeoutMs);
        return { exitCode: await exit, metrics: last };
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** One client request and what came back: the colour and version headers name the server that answered. */
export interface Served {
  readonly color: string;
  readonly version: string;
  readonly ok: boolean;
  readonly start: number;
  readonly end: number;
  readonly error?: string;
}

/**
 * Steady load: `concurrency` clients, each sending one tools/call after another until stop().
 * A call is ok when it gets a 200 with a result that is not a tool error; times are performance.now().
 */
export function startLoad(url: string, concurrency: number, params: (id: number) => { name: string; arguments: Record<string, unknown> }) {
  const results: Served[] = [];
  let running = true;
  let next = 0;
  const call = async (id: number) => {
    const start = performance.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: params(id) }),
      });
      const body = await response.text();
      const ok = response.status === 200 && body.includes('"result"') && !body.includes('"isError":true');
      const served = { color: response.headers.get("x-deployment-color") ?? "?", version: response.headers.get("x-app-version") ?? "?" };
      results.push({ ...served, ok, start, end: performance.now(), error: ok ? undefined : `${response.status} ${body.slice(0, 200)}` });
    } catch (error) {
      results.push({ color: "?", version: "?", ok: false, start, end: performance.now(), error: String(error) });
    }
  };
  const clients = Array.from({ length: concurrency }, async () => {
    while (running) await call(next++);
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(clients);
    },
  };
}
