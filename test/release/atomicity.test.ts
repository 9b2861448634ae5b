import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import fc from "fast-check";
import { parseReleaseManifest } from "../../config/load";
import type { ReleaseManifest } from "../../config/release-manifest";
import { main } from "../../release/cli";
import { manifestStore } from "../../release/manifest-store";
import { cliHarness, DIGEST_B, healthy, settledManifest, startInfoServer, tempConfig, TAGGED, type InfoServer } from "./support";

const withWeights = (m: ReleaseManifest, blue: number): ReleaseManifest => ({
  ...m,
  colors: { blue: { ...m.colors.blue, weight: blue }, green: { ...m.colors.green, weight: 100 - blue } },
});
const deployed = settledManifest({ green: { image: DIGEST_B, version: "1.4.0", minTasks: 3 } });
const STARTS: ReleaseManifest[] = [settledManifest(), deployed, withWeights(deployed, 90), withWeights(deployed, 50)];

/** A process killed mid-release: nothing after this point runs, not even error handling. */
class Crash extends Error {}

describe("the release manifest on disk", () => {
  let server: InfoServer;
  beforeAll(async () => {
    server = await startInfoServer({ version: "1.4.0", color: "green" });
  });
  afterAll(() => server.close());

  it("is always a whole, valid manifest and, after any command ends, what was last applied; git holds exactly the applied changes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          start: fc.constantFrom(...STARTS),
          command: fc.constantFrom(["promote"], ["rollback"], ["deploy", "--image", TAGGED, "--url", "URL"]),
          failingApply: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
          alarmAfterPolls: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }),
          crashAfterSleeps: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
        }),
        async ({ start, command, failingApply, alarmAfterPolls, crashAfterSleeps }) => {
          const h = cliHarness(start);
          try {
            const unreadable: string[] = [];
            const checkFile = (when: string) => {
              try {
                parseReleaseManifest(JSON.parse(fs.readFileSync(h.config.file, "utf8")));
              } catch (error) {
                unreadable.push(`${when}: ${(error as Error).message}`);
              }
            };
            if (failingApply) h.applier.failOn = new Set([failingApply]);
            h.aws.behaviour = (color, poll, live) => {
              checkFile(`observe ${color}`);
              const alarm = color === "green" && alarmAfterPolls !== undefined && poll >= alarmAfterPolls ? "ALARM" : "OK";
              return healthy(live.colors[color].image, 2, alarm);
            };
            const sleep = h.clock.sleep.bind(h.clock);
            h.clock.sleep = async (ms) => {
              checkFile("sleep");
              if (crashAfterSleeps !== undefined && h.clock.sleeps.length >= crashAfterSleeps) throw new Crash("killed");
              return sleep(ms);
            };

            const argv = [...command.map((a) => (a === "URL" ? server.url : a)), "--env", "staging", "--commit"];
            let code: number | "crashed";
            try {
              code = await main(argv, h.deps);
            } catch (error) {
              if (!(error instanceof Crash)) throw error;
              code = "crashed";
            }

            expect(unreadable).toEqual([]);
            expect(h.config.read()).toEqual(h.applier.live ?? start);
            expect(h.recorder.commits.map((c) => c.content)).toEqual(h.applier.applied);
            // A rollback's first step moves the traffic, with the very weights the apply after it writes.
            const events = h.applier.events;
            events.forEach((event, i) => {
              if (event.startsWith("move ")) expect([event, events[i + 1]]).toEqual([event, event.replace("move", "apply")]);
            });
            const rollbacks = h.recorder.commits.filter((c) => /rollback to/.test(c.message)).length;
            expect(events.filter((e) => e.startsWith("move ")).length).toBeGreaterThanOrEqual(rollbacks);
            if (code === 0) expect(h.err).toEqual([]);
            if (code === 1) expect(h.err).toHaveLength(1);
          } finally {
            h.config.remove();
          }
        },
      ),
      { numRuns: 150 },
    );
    // 150 runs take about 4 s alone, close to jest's 5 s default on a loaded 2-core machine.
  }, 60_000);

  it("is never seen half-written by a reader, even when the writer is killed mid-write", async () => {
    const config = tempConfig(deployed);
    const writer = path.join(path.dirname(config.dir), "writer.js");
    try {
      // A real second process writes manifests as fast as it can through the release's own store.
      const { outputFiles } = buildSync({ entryPoints: [path.resolve(__dirname, "../../release/manifest-store.ts")], bundle: true, platform: "node", packages: "external", format: "cjs", write: false });
      fs.writeFileSync(
        writer,
        `${outputFiles[0].text}
const [dir, a, b] = process.argv.slice(2);
const store = module.exports.manifestStore("staging", dir);
for (let i = 0; ; i += 1) store.write(JSON.parse(i % 2 ? a : b));
`,
      );
      const child = spawn(process.execPath, [writer, config.dir, JSON.stringify(withWeights(deployed, 50)), JSON.stringify(withWeights(deployed, 90))], {
        env: { ...process.env, NODE_PATH: path.resolve(__dirname, "../../node_modules"), MCP_DEPLOY_CONFIG_DIR: config.dir },
        stdio: ["ignore", "ignore", "pipe"],
      });
      const exited = once(child, "exit");
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const seen = new Set<number>();
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        const manifest = parseReleaseManifest(JSON.parse(fs.readFileSync(config.file, "utf8")));
        seen.add(manifest.colors.blue.weight);
        await new Promise((resolve) => setImmediate(resolve));
      }
      child.kill("SIGKILL");
      await exited;
      expect(stderr).toBe("");
      // The reader saw the writer's changes, never a torn file, and the killed writer left a whole manifest.
      expect([...seen].filter((w) => w === 50 || w === 90).length).toBe(2);
      expect(() => parseReleaseManifest(JSON.parse(fs.readFileSync(config.file, "utf8")))).not.toThrow();
    } finally {
      config.remove();
    }
  }, 10_000);

  it("refuses to write an invalid manifest, leaving the file as it was", () => {
    const config = tempConfig(deployed);
    try {
      const store = manifestStore("staging", config.dir);
      expect(() => store.write(withWeights(deployed, 120))).toThrow(/expected weights summing to 100|colors\.blue\.weight/);
      expect(store.read()).toEqual(deployed);
      expect(fs.readdirSync(`${config.dir}/releases`)).toEqual(["staging.json"]);
    } finally {
      config.remove();
    }
  });
});
