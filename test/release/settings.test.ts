import * as fs from "node:fs";
import { loadEnvironment } from "../../config/load";
import { COLORS, type ReleaseManifest } from "../../config/release-manifest";
import type { TaskSettings } from "../../config/schema";
import { main } from "../../release/cli";
import { taskSettings } from "../../stacks/task-settings";
import { cliHarness, DIGEST_A, DIGEST_B, editConfig, healthy, settledManifest, TASK } from "./support";

let harness: ReturnType<typeof cliHarness>;
afterEach(() => harness?.config.remove());

const release = (...argv: string[]) => main(argv, harness.deps);

/** A harness whose config asks for 512 cpu / 1024 MiB where `manifest` records TASK's 256 / 512. */
function drifted(manifest: ReleaseManifest): TaskSettings {
  harness = cliHarness(manifest);
  editConfig(harness.config.dir, (c) => {
    c.service.cpu = 512;
    c.service.memory = 1024;
  });
  return taskSettings(loadEnvironment("staging", harness.config.dir).config);
}

/** `manifest` with `task` recorded for both colours and nothing else changed. */
const withTask = (manifest: ReleaseManifest, task: TaskSettings): ReleaseManifest => ({
  ...manifest,
  colors: { blue: { ...manifest.colors.blue, task }, green: { ...manifest.colors.green, task } },
});

describe("release settings", () => {
  it("reports which colours' settings differ from the config's, and changes nothing", async () => {
    // green took the config's settings with its last deploy; blue, live, still records the old ones.
    const manifest = settledManifest({ green: { image: DIGEST_B, version: "1.4.0", task: { ...TASK, cpu: 512, memory: 1024 } } });
    const wanted = drifted(manifest);
    const file = fs.readFileSync(harness.config.file, "utf8");

    expect(await release("settings", "--env", "staging", "--commit")).toBe(0);

    expect(harness.err).toEqual([]);
    const out = harness.out.join("\n");
    expect(out).toContain("blue (100% of traffic) records 2 task setting(s) other than the config's:\ncpu: 256 -> 512\nmemory: 512 -> 1024\n");
    expect(out).toContain("green (idle) records the config's task settings");
    expect(wanted).toEqual(manifest.colors.green.task);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.applier.planned).toEqual([]);
    expect(harness.recorder.commits).toEqual([]);
    expect(fs.readFileSync(harness.config.file, "utf8")).toBe(file);
  });

  it("--both-colours records the config's settings for both colours in one apply, commits it once, and waits for both", async () => {
    const manifest = settledManifest({ green: { image: DIGEST_B, version: "1.4.0" } });
    const wanted = drifted(manifest);

    expect(await release("settings", "--env", "staging", "--both-colours", "--commit")).toBe(0);

    expect(harness.err).toEqual([]);
    // Weights, images and versions stay: only the task settings move, for both colours at once.
    const expected = withTask(manifest, wanted);
    expect(harness.applier.applied).toEqual([expected]);
    expect(harness.config.read()).toEqual(expected);
    expect(harness.recorder.commits).toEqual([{ file: harness.config.file, message: "release(staging): task settings for both colours", content: expected }]);
    for (const color of COLORS) {
      expect(harness.aws.observations[color]).toBeGreaterThan(0);
      expect(harness.out).toContainEqual(expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\dZ ready: ${color}: `)));
    }
    expect(harness.out[harness.out.length - 1]).toMatch(/settings: both colours run the config's task settings$/);
  });

  it("--both-colours --dry-run plans the change for both colours, and applies, writes and commits nothing", async () => {
    const manifest = settledManifest();
    const wanted = drifted(manifest);
    const file = fs.readFileSync(harness.config.file, "utf8");

    expect(await release("settings", "--env", "staging", "--both-colours", "--dry-run", "--commit")).toBe(0);

    expect(harness.err).toEqual([]);
    expect(harness.applier.planned).toEqual([withTask(manifest, wanted)]);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.recorder.commits).toEqual([]);
    expect(harness.aws.observations).toEqual({ blue: 0, green: 0 });
    expect(fs.readFileSync(harness.config.file, "utf8")).toBe(file);
  });

  it("--both-colours fails, naming the colour and the circuit breaker's way back, when a colour never becomes ready", async () => {
    const manifest = settledManifest();
    drifted(manifest);
    // blue's replacement tasks never pass their health check; green's would have.
    harness.aws.behaviour = (color, _poll, live) =>
      color === "green"
        ? healthy(live.colors.green.image)
        : { ...healthy(DIGEST_A), targets: { healthy: 1, starting: 0, unhealthy: 1, draining: 0, reasons: ["10.0.1.9: unhealthy (Target.FailedHealthChecks)"] } };

    expect(await release("settings", "--env", "staging", "--both-colours")).toBe(1);

    expect(harness.err).toEqual([
      "error: blue was not ready after 600 s: blue has 1 healthy target(s) of 2: 10.0.1.9: unhealthy (Target.FailedHealthChecks); " +
        "if ECS's circuit breaker trips, it returns blue to its previous task definition: run status, fix the config, and run this again",
    ]);
    expect(harness.clock.elapsedSeconds).toBe(600);
    // The apply went through, so the file records it: what is live is what the manifest says.
    expect(harness.applier.applied).toHaveLength(1);
    expect(harness.config.read()).toEqual(harness.applier.applied[0]);
  });

  it("--both-colours stops at once when ECS's circuit breaker fails a colour's new tasks", async () => {
    drifted(settledManifest());
    harness.aws.behaviour = (color, _poll, live) =>
      color === "blue" ? { ...healthy(DIGEST_A), rollout: "failed", rolloutReason: "tasks failed to start" } : healthy(live.colors[color].image);

    expect(await release("settings", "--env", "staging", "--both-colours")).toBe(1);

    expect(harness.err).toHaveLength(1);
    expect(harness.err[0]).toMatch(/^error: ECS could not start \S+ on blue: tasks failed to start; if ECS's circuit breaker trips, it returns blue to its previous task definition/);
    expect(harness.clock.elapsedSeconds).toBe(0);
  });

  it("--both-colours applies, so like deploy it refuses an example account before touching anything", async () => {
    drifted(settledManifest());
    editConfig(harness.config.dir, (c) => {
      c.aws.accountId = "123456789012";
    });
    expect(await release("settings", "--env", "staging", "--both-colours")).toBe(1);
    expect(harness.err.join("\n")).toMatch(/aws\.accountId: 123456789012 is an example account id/);
    expect(harness.applier.applied).toEqual([]);
  });

  it("--both-colours waits until ECS runs the new task definition, not just the same image (a rolled-back revision is not ready)", async () => {
    const task = drifted(settledManifest());
    harness.aws.behaviour = (color, poll, live) => ({
      ...healthy(live.colors[color].image),
      // blue's old revision (the same image) answers for two polls before its new tasks take over.
      runningTask: { cpu: color === "blue" && poll <= 2 ? TASK.cpu : task.cpu, memory: task.memory, environment: task.environment },
    });
    expect(await release("settings", "--env", "staging", "--both-colours")).toBe(0);
    expect(harness.out.filter((line) => line.includes("waiting: "))).toEqual([
      expect.stringMatching(new RegExp(`waiting: waiting for ECS to start blue's recorded task settings \\(it still runs cpu ${TASK.cpu}, not ${task.cpu}\\)$`)),
      expect.stringMatching(new RegExp(`waiting: waiting for ECS to start blue's recorded task settings \\(it still runs cpu ${TASK.cpu}, not ${task.cpu}\\)$`)),
    ]);
  });
});
