import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exited, freePort, haproxyCommand, SERVER, waitFor } from "./support/processes";

/*
 * The local zero-downtime proof of a blue/green release: two real server processes, blue on one
 * version and green on another, behind a real HAProxy holding them as weighted backends the way
 * the ALB's listener does, under steady load on loopback. Traffic shifts 100/0 -> 90/10 -> 50/50
 * -> 0/100 through HAProxy's runtime API, then blue gets SIGTERM as a scale-in would send it.
 */
const VERSIONS = { blue: "1.0.0", green: "1.1.0" } as const;
type Color = keyof typeof VERSIONS;
const CONCURRENCY = 8;
const PHASE_MS = 1500;

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the zero-downtime proof needs the built server (${SERVER}): npm test builds it first`);
};

describeIfBuilt("a blue/green shift behind a weighted load balancer", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zero-downtime-"));
  const children: ChildProcess[] = [];
  const servers = {} as Record<Color, { process: ChildProcess; port: number }>;
  let socket = "";
  let frontend = 0;

  beforeAll(async () => {
    const redisPort = await freePort();
    const redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    children.push(redis);

    for (const color of ["blue", "green"] as Color[]) {
      const port = await freePort();
      const child = spawn(process.execPath, [SERVER], {
        env: {
          ...process.env,
          PORT: String(port),
          METRICS_PORT: String(await freePort()),
          HOST: "127.0.0.1",
          DEPLOYMENT_COLOR: color,
          APP_VERSION: VERSIONS[color],
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          UPSTREAM_URL: "http://127.0.0.1:9",
          DRAIN_DELAY_SECONDS: "1",
          STOP_TIMEOUT_SECONDS: "10",
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.push(child);
      servers[color] = { process: child, port };
    }
    for (const color of ["blue", "green"] as Color[]) {
      await waitFor(`${color} to be ready`, async () => (await fetch(`http://127.0.0.1:${servers[color].port}/health/ready`)).ok);
    }

    frontend = await freePort();
    socket = path.join(dir, "admin.sock");
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
    const haproxy = spawn("haproxy", ["-f", config, "-db", "-q"], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(haproxy);
    await waitFor("haproxy", async () => (await fetch(`http://127.0.0.1:${frontend}/health/live`)).ok);
  }, 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serves every request, each from a colour that had weight at the time", async () => {
    // When each colour last had weight: a response is right if its colour had weight at some moment while it was in flight.
    const weights: { at: number; blue: number; green: number }[] = [{ at: 0, blue: 100, green: 0 }];
    const hadWeight = (color: Color, start: number, end: number) =>
      weights.some((w, i) => w[color] > 0 && w.at <= end && (weights[i + 1]?.at ?? Infinity) >= start);

    const results: { color: string; version: string; ok: boolean; start: number; end: number; error?: string }[] = [];
    let running = true;
    const call = async (id: number) => {
      const start = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${frontend}/mcp`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
          body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "server_info", arguments: {} } }),
        });
        const body = await response.text();
        const ok = response.status === 200 && body.includes('"result"') && !body.includes('"isError":true');
        results.push({ color: response.headers.get("x-deployment-color") ?? "?", version: response.headers.get("x-app-version") ?? "?", ok, start, end: performance.now(), error: ok ? undefined : `${response.status} ${body.slice(0, 200)}` });
      } catch (error) {
        results.push({ color: "?", version: "?", ok: false, start, end: performance.now(), error: String(error) });
      }
    };
    let next = 0;
    const load = Array.from({ length: CONCURRENCY }, async () => {
      while (running) await call(next++);
    });

    const shift = async (blue: number, green: number) => {
      await new Promise((r) => setTimeout(r, PHASE_MS));
      await haproxyCommand(socket, `set server colors/blue weight ${blue}`);
      await haproxyCommand(socket, `set server colors/green weight ${green}`);
      weights.push({ at: performance.now(), blue, green });
    };
    await shift(90, 10);
    await shift(50, 50);
    await shift(0, 100);
    await new Promise((r) => setTimeout(r, PHASE_MS));

    // Scale-in of the old colour: readiness turns 503, the balancer drains it, in-flight requests finish.
    servers.blue.process.kill("SIGTERM");
    const blueExit = await exited(servers.blue.process);
    await new Promise((r) => setTimeout(r, PHASE_MS));
    running = false;
    await Promise.all(load);

    const failed = results.filter((r) => !r.ok);
    const served = { blue: results.filter((r) => r.ok && r.color === "blue").length, green: results.filter((r) => r.ok && r.color === "green").length };
    const misrouted = results.filter((r) => r.ok && !(r.color in VERSIONS && hadWeight(r.color as Color, r.start, r.end)));
    const wrongVersion = results.filter((r) => r.ok && VERSIONS[r.color as Color] !== r.version);
    console.log(`zero-downtime proof: ${results.length} requests, ${results.length - failed.length} served (blue ${served.blue}, green ${served.green}), ${failed.length} failed; blue exited ${blueExit}`);

    expect(failed.map((f) => f.error)).toEqual([]);
    expect(misrouted).toEqual([]);
    expect(wrongVersion).toEqual([]);
    expect(served.blue).toBeGreaterThan(100);
    expect(served.green).toBeGreaterThan(100);
    expect(blueExit).toBe(0);
  }, 60_000);
});
