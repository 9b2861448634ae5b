import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Color, ReleaseManifest } from "../config/release-manifest";
import type { LiveListeners } from "../release/aws";
import { main } from "../release/cli";
import type { ColorObservation } from "../release/state-machine";
import { cliHarness, DIGEST_B, FakeApplier, FakeAws, FakeClock, settledManifest } from "./release/support";
import { startLoad, startLoopback, type Loopback } from "./support/loopback";
import { SERVER } from "./support/processes";

/*
 * The fault case of the loopback proof: blue (good) and green (a bad version: its upstream answers
 * 500, so every tool call it serves is a tool error) behind a real HAProxy, whose runtime API is
 * the listener for both the FakeApplier's "apply" and the fast rollback's one move. The real
 * release CLI promotes green; the gate reads green's own count of error answers from its
 * /metrics, so it sees the first slice fail, and the rollback moves the weights back before the
 * reconciling apply.
 *
 * Release time runs SPEEDUP times faster than the wall clock (real sleeps, scaled): the CLI polls
 * every min(15 s, the bake left), so with a real clock a bake short enough for a test is a single
 * window that a busy machine can pass before green has answered anything. Scaled, the policy's
 * 300 s bake takes 3 s, polled every 150 ms. The figures are wall-clock; in AWS a 15 s poll and
 * CloudWatch's evaluation periods come on top.
 */
const CONCURRENCY = 8;
const SPEEDUP = 100;
/** Terraform's apply of a listener change, some 20 s, at release speed. */
const APPLY_MS = 20_000 / SPEEDUP;
const VERSIONS: Record<Color, string> = { blue: "1.3.0", green: "1.4.0" };

/** Error answers by the server's own count: mcp_request_duration_seconds by outcome. */
const ERROR_SERIES = /^mcp_request_duration_seconds_count\{[^}]*outcome="(?:error|tool_error|rpc_error)"[^}]*\} (\d+)$/gm;

/** Sleeps really, scaled down, so that load runs against each weight while the CLI bakes. */
class ScaledClock extends FakeClock {
  override async sleep(milliseconds: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, milliseconds / SPEEDUP));
    await super.sleep(milliseconds);
  }
}

/** An upstream that answers every path with `status`. */
async function upstream(status: number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "fine" : "broken"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the loopback fault case needs the built server (${SERVER}): npm test builds it first`);
};

describeIfBuilt("a bad version's first slice behind a weighted load balancer", () => {
  let loopback: Loopback;
  let upstreams: Server[] = [];

  beforeAll(async () => {
    upstreams = [await upstream(200), await upstream(500)];
    loopback = await startLoopback({
      blue: { APP_VERSION: VERSIONS.blue, UPSTREAM_URL: urlOf(upstreams[0]!) },
      green: { APP_VERSION: VERSIONS.green, UPSTREAM_URL: urlOf(upstreams[1]!) },
    });
  }, 60_000);

  afterAll(() => {
    loopback?.stop();
    for (const server of upstreams) server.close();
  });

  it("moves the traffic back with the fast rollback as soon as the gate sees the errors, before the apply", async () => {
    const timeline: Array<{ what: string; at: number }> = [];
    const mark = (what: string) => timeline.push({ what, at: performance.now() });
    const at = (what: string) => timeline.find((e) => e.what === what)?.at ?? NaN;
    const errorsServed = async (color: Color) => [...(await loopback.metrics(color)).matchAll(ERROR_SERIES)].reduce((sum, m) => sum + Number(m[1]), 0);
    let errorsAtDecision = NaN;

    /** Terraform's part: an apply takes its time, then makes the manifest's weights live on the listener. */
    class LoopbackApplier extends FakeApplier {
      /** The listener's weights as each apply found them. */
      readonly found: Array<Record<Color, number>> = [];
      override async apply(environment: string, release?: ReleaseManifest): Promise<void> {
        this.found.push(await loopback.weights());
        await new Promise((resolve) => setTimeout(resolve, APPLY_MS));
        await super.apply(environment, release);
        const { blue, green } = this.live!.colors;
        await loopback.setWeights({ blue: blue.weight, green: green.weight });
        mark(`apply ${blue.weight}/${green.weight}`);
      }
    }
    /** AWS's part: the alarm is "errors rose since the last poll", the listener is HAProxy's weights. */
    class LoopbackAws extends FakeAws {
      private readonly errorsSeen: Partial<Record<Color, number>> = {};
      override async observe(color: Color): Promise<ColorObservation> {
        const seen = await super.observe(color);
        const errors = await errorsServed(color);
        // The first poll has no window behind it: it only sets the baseline.
        const rose = errors > (this.errorsSeen[color] ?? errors);
        this.errorsSeen[color] = errors;
        if (rose && Number.isNaN(at("decision"))) {
          mark("decision");
          errorsAtDecision = errors;
        }
        return { ...seen, alarm: rose ? "ALARM" : "OK" };
      }
      override async listeners(): Promise<LiveListeners> {
        return { ...(await super.listeners()), production: await loopback.weights() };
      }
      override async moveTraffic(weights: Record<Color, number>): Promise<string> {
        await loopback.setWeights(weights);
        mark("moved");
        return super.moveTraffic(weights);
      }
    }

    // Green deployed and verified on the bad version, idle; blue stable with all the traffic.
    const manifest = settledManifest({ green: { image: DIGEST_B, version: VERSIONS.green } });
    const harness = cliHarness(manifest);
    const applier = new LoopbackApplier(harness.config.read);
    const aws = new LoopbackAws(applier, manifest);
    const deps = { ...harness.deps, applier, aws: () => aws, clock: new ScaledClock() };

    // A path of its own per call: every call green takes reaches its upstream (a path's breaker never opens).
    const load = startLoad(loopback.url, CONCURRENCY, (id) => ({ name: "cached_fetch", arguments: { path: `/item/${id}` } }));
    let code: number;
    try {
      code = await main(["promote", "--env", "staging"], deps);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await load.stop();
      harness.config.remove();
    }

    const { results } = load;
    const green = results.filter((r) => r.color === "green");
    const greenAfterDecision = green.filter((r) => r.end >= at("decision")).length;
    const greenOwnCountAfterDecision = (await errorsServed("green")) - errorsAtDecision;
    const afterMove = results.filter((r) => r.start >= at("moved"));
    const offGreenFailures = results.filter((r) => r.color !== "green" && !r.ok);
    console.log(
      `loopback fault case: ${results.length} requests; green (bad) had traffic ${(at("moved") - at("apply 90/10")).toFixed(0)} ms and served ${green.length}, ` +
        `${greenAfterDecision} of them after the decision (${greenOwnCountAfterDecision} by green's own count); ` +
        `decision to traffic moved ${(at("moved") - at("decision")).toFixed(1)} ms; ` +
        `${afterMove.length} requests started after the move, ${afterMove.filter((r) => r.color === "green").length} on green; ${offGreenFailures.length} failures off green`,
    );

    expect(code).toBe(1);
    expect(harness.err).toEqual([
      `error: promotion of green (${VERSIONS.green}) rolled back at 10%: the alarm mcp-staging-green-unhealthy is in ALARM; all traffic is on blue (${VERSIONS.blue})`,
    ]);
    expect((await aws.listeners()).production).toEqual({ blue: 100, green: 0 });
    expect(applier.events).toEqual(["apply 90/10", "move 100/0", "apply 100/0"]);
    expect(timeline.map((e) => e.what)).toEqual(["apply 90/10", "decision", "moved", "apply 100/0"]);
    // The apply that records the rollback found the listener already moved: the move was the direct call, not Terraform.
    expect(applier.found.at(-1)).toEqual({ blue: 100, green: 0 });

    expect(green.length).toBeGreaterThan(0);
    expect(green.filter((r) => r.ok)).toEqual([]);
    // Once the move returned, no new request reached green; only those already in flight could finish there.
    expect(afterMove.length).toBeGreaterThan(0);
    expect(afterMove.filter((r) => r.color !== "blue" || !r.ok)).toEqual([]);
    expect(greenAfterDecision).toBeLessThanOrEqual(CONCURRENCY);
    // Neither the slice nor the move cost a request off green: no connection error, no 503, no blue failure.
    expect(offGreenFailures.map((r) => r.error)).toEqual([]);
  }, 30_000);
});
