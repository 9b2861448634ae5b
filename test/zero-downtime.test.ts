import * as fs from "node:fs";
import type { Color } from "../config/release-manifest";
import { startLoad, startLoopback, type Loopback } from "./support/loopback";
import { exited, SERVER } from "./support/processes";

/*
 * The local zero-downtime proof of a blue/green release: two real server processes, blue on one
 * version and green on another, behind a real HAProxy holding them as weighted backends the way
 * the ALB's listener does, under steady load on loopback. Traffic shifts 100/0 -> 90/10 -> 50/50
 * -> 0/100 through HAProxy's runtime API, then blue gets SIGTERM as a scale-in would send it.
 */
const VERSIONS: Record<Color, string> = { blue: "1.0.0", green: "1.1.0" };
const CONCURRENCY = 8;
const PHASE_MS = 1500;

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the zero-downtime proof needs the built server (${SERVER}): npm test builds it first`);
};

describeIfBuilt("a blue/green shift behind a weighted load balancer", () => {
  let loopback: Loopback;

  beforeAll(async () => {
    loopback = await startLoopback({ blue: { APP_VERSION: VERSIONS.blue }, green: { APP_VERSION: VERSIONS.green } });
  }, 60_000);

  afterAll(() => loopback?.stop());

  it("serves every request, each from a colour that had weight at the time", async () => {
    // When each colour last had weight: a response is right if its colour had weight at some moment while it was in flight.
    const weights: { at: number; blue: number; green: number }[] = [{ at: 0, blue: 100, green: 0 }];
    const hadWeight = (color: Color, start: number, end: number) =>
      weights.some((w, i) => w[color] > 0 && w.at <= end && (weights[i + 1]?.at ?? Infinity) >= start);

    const load = startLoad(loopback.url, CONCURRENCY, () => ({ name: "server_info", arguments: {} }));
    const shift = async (blue: number, green: number) => {
      await new Promise((r) => setTimeout(r, PHASE_MS));
      await loopback.setWeights({ blue, green });
      weights.push({ at: performance.now(), blue, green });
    };
    await shift(90, 10);
    await shift(50, 50);
    await shift(0, 100);
    await new Promise((r) => setTimeout(r, PHASE_MS));

    // Scale-in of the old colour: readiness turns 503, the balancer drains it, in-flight requests finish.
    loopback.servers.blue.process.kill("SIGTERM");
    const blueExit = await exited(loopback.servers.blue.process);
    await new Promise((r) => setTimeout(r, PHASE_MS));
    await load.stop();

    const { results } = load;
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
