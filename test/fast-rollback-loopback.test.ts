import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { Color, ReleaseManifest } from "../config/release-manifest";
import { main } from "../release/cli";
import type { Clock } from "../release/clock";
import type { ColorObservation } from "../release/state-machine";
import { cliHarness, DIGEST_B, FakeApplier, FakeAws, healthy, settledManifest } from "./release/support";
import { freePort, haproxyCommand, SERVER, waitFor } from "./support/processes";

/*
 * The fault case of the loopback proof: blue (good) and green (a bad version: every tool call
 * fails, because its upstream answers 500) behind a real HAProxy whose runtime API plays the ALB
 * listener. The real release CLI promotes green; its first 10% slice errors, the gate sees it, and
 * the fast rollback moves HAProxy's weights back before the reconciling "apply".
 */
const CONCURRENCY = 8;
/** Release time runs this many times faster than the wall clock: a 15 s poll takes 150 ms. */
const SPEEDUP = 100;

interface Result {
  readonly color: string;
  readonly ok: boolean;
  readonly start: number;
}

/** Real sleeps, scaled down, so that load runs against each weight while the CLI bakes. */
class ScaledClock implements Clock {
  private virtualMs = Date.parse("2026-05-01T12:00:00Z");
  now(): Date {
    return new Date(this.virtualMs);
  }
  async sleep(milliseconds: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, milliseconds / SPEEDUP));
    this.virtualMs += milliseconds;
  }
}

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the loopback fault case needs the built server (${SERVER}): npm test builds it first`);
};

describeIfBuilt("a bad version's first slice behind a weighted load balancer", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fast-rollback-"));
  const children: ChildProcess[] = [];
  const upstreams: Server[] = [];
  let socket = "";
  let frontend = 0;

  /** An upstream that answers every path with `status`. */
  const upstream = async (status: number): Promise<string> => {
    const port = await freePort();
    const server = createServer((_req, res) => res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "fine" : "broken"));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    upstreams.push(server);
    return `http://127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    const redisPort = await freePort();
    children.push(spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" }));
    const ports = {} as Record<Color, number>;
    const upstreamOf: Record<Color, string> = { blue: await upstream(200), green: await upstream(500) };
    for (const color of ["blue", "green"] as Color[]) {
      ports[color] = await freePort();
      const env = {
        ...process.env,
        PORT: String(ports[color]),
        METRICS_PORT: String(await freePort()),
        HOST: "127.0.0.1",
        DEPLOYMENT_COLOR: color,
        APP_VERSION: color === "blue" ? "1.3.0" : "1.4.0",
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        UPSTREAM_URL: upstreamOf[color],
        LOG_LEVEL: "warn",
      };
      children.push(spawn(process.execPath, [SERVER], { env, stdio: ["ignore", "ignore", "inherit"] }));
    }
    for (const color of ["blue", "green"] as Color[]) await waitFor(`${color} to be ready`, async () => (await fetch(`http://127.0.0.1:${ports[color]}/health/ready`)).ok);

    frontend = await freePort();
    socket = path.join(dir, "admin.sock");
    const config = path.join(dir, "haproxy.cfg");
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
        "frontend mcp",
        `  bind 127.0.0.1:${frontend}`,
        "  default_backend colors",
        "backend colors",
        "  balance roundrobin",
        `  server blue 127.0.0.1:${ports.blue} weight 100`,
        `  server green 127.0.0.1:${ports.green} weight 0`,
        "",
      ].join("\n"),
    );
    children.push(spawn("haproxy", ["-f", config, "-db", "-q"], { stdio: ["ignore", "ignore", "inherit"] }));
    await waitFor("haproxy", async () => (await fetch(`http://127.0.0.1:${frontend}/health/live`)).ok);
  }, 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const server of upstreams) server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("moves the traffic back with the fast rollback as soon as the gate sees the errors, before the apply", async () => {
    const setWeights = async (weights: Record<Color, number>) => {
      for (const color of ["blue", "green"] as Color[]) await haproxyCommand(socket, `set server colors/${color} weight ${weights[color]}`);
    };
    const results: Result[] = [];
    const events: Array<{ what: string; at: number }> = [];
    const mark = (what: string) => events.push({ what, at: performance.now() });
    const at = (what: string) => events.find((e) => e.what === what)?.at ?? NaN;

    /** Terraform's part: an apply makes the manifest's weights live on the "listener". */
    class LoopbackApplier extends FakeApplier {
      override async apply(environment: string, release?: ReleaseManifest): Promise<void> {
        await super.apply(environment, release);
        const live = this.live!;
        await setWeights({ blue: live.colors.blue.weight, green: live.colors.green.weight });
        mark(`apply ${live.colors.blue.weight}/${live.colors.green.weight}`);
      }
    }
    /** AWS's part: the gate reads the errors each colour served (what its alarm would see), the fast rollback sets HAProxy's weights. */
    class LoopbackAws extends FakeAws {
      override async observe(color: Color): Promise<ColorObservation> {
        const live = applier.live ?? manifest;
        const failing = results.some((r) => r.color === color && !r.ok);
        if (failing && !events.some((e) => e.what === "decision")) mark("decision");
        return healthy(live.colors[color].image, 2, failing ? "ALARM" : "OK");
      }
      override async moveTraffic(weights: Record<Color, number>): Promise<string> {
        await setWeights(weights);
        mark("moved");
        return super.moveTraffic(weights);
      }
    }

    const manifest = settledManifest({ green: { image: DIGEST_B, version: "1.4.0" } });
    const harness = cliHarness(manifest);
    const applier = new LoopbackApplier(harness.config.read);
    const aws = new LoopbackAws(applier, manifest);
    const deps = { ...harness.deps, applier, aws: () => aws, clock: new ScaledClock() };

    let running = true;
    let id = 0;
    const call = async () => {
      const start = performance.now();
      const response = await fetch(`http://127.0.0.1:${frontend}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
        // A path of its own per call: the shared Redis cache never answers for the bad version.
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name: "cached_fetch", arguments: { path: `/item/${id}` } } }),
      }).catch(() => undefined);
      const body = (await response?.text()) ?? "";
      const ok = response?.status === 200 && body.includes('"result"') && !body.includes('"isError":true');
      results.push({ color: response?.headers.get("x-deployment-color") ?? "none", ok, start });
    };
    const load = Array.from({ length: CONCURRENCY }, async () => {
      while (running) await call();
    });

    const code = await main(["promote", "--env", "staging"], deps);
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(load);
    harness.config.remove();

    expect(code).toBe(1);
    expect(harness.err[0]).toMatch(/^error: promotion of green \(1\.4\.0\) rolled back at 10%: .*all traffic is on blue/);
    expect(events.map((e) => e.what)).toEqual(["apply 90/10", "decision", "moved", "apply 100/0"]);
    expect(await haproxyCommand(socket, "get weight colors/green")).toMatch(/^0 /);

    const greenAfterDecision = results.filter((r) => r.color === "green" && r.start >= at("decision")).length;
    const greenAfterMove = results.filter((r) => r.color === "green" && r.start >= at("moved")).length;
    const blueFailures = results.filter((r) => r.color !== "green" && !r.ok).length;
    console.log(
      `loopback fault case: ${results.length} requests; the bad version had traffic ${(at("moved") - at("apply 90/10")).toFixed(0)} ms ` +
        `(release time x${SPEEDUP} faster than the wall clock), served ${results.filter((r) => r.color === "green").length} requests, ` +
        `${greenAfterDecision} of them after the decision; decision to traffic moved ${(at("moved") - at("decision")).toFixed(1)} ms; ` +
        `${greenAfterMove} green requests started after the move; ${blueFailures} failures elsewhere`,
    );
    expect(greenAfterMove).toBe(0);
    expect(blueFailures).toBe(0);
    expect(results.filter((r) => r.color === "green").length).toBeGreaterThan(0);
  }, 60_000);
});
