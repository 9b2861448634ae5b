import { main } from "../../release/cli";
import { AwsError } from "../../release/errors";
import type { ColorObservation } from "../../release/state-machine";
import { cliHarness, DIGEST_A, DIGEST_B, healthy, settledManifest, startInfoServer, TAGGED, TASK, type InfoServer } from "./support";

/** green carries 1.4.0 on DIGEST_B at 0%, blue is stable on DIGEST_A: the state after a deploy. */
const deployed = () => settledManifest({ green: { image: DIGEST_B, version: "1.4.0", minTasks: 3 } });

type Harness = ReturnType<typeof cliHarness>;
let harness: Harness;
afterEach(() => harness?.config.remove());

const release = (...argv: string[]) => main(argv, harness.deps);
const weights = (h: Harness) => h.applier.applied.map((m) => `${m.colors.blue.weight}/${m.colors.green.weight}`);

describe("release deploy", () => {
  let server: InfoServer;
  beforeAll(async () => {
    server = await startInfoServer({ version: "1.4.0", color: "green" });
  });
  afterAll(() => server.close());

  it("puts the image on the idle colour with the live colour's capacity, waits for healthy targets, then verifies over MCP", async () => {
    harness = cliHarness(settledManifest());
    // blue runs 4 tasks; green takes three polls to start its tasks.
    harness.aws.behaviour = (color, poll, live) => {
      if (color === "blue") return healthy(DIGEST_A, 4);
      if (poll < 3) return { ...healthy(live.colors.green.image, 4), targets: { healthy: 1, starting: 3, unhealthy: 0, draining: 0, reasons: ["10.0.1.7: initial"] } };
      return healthy(live.colors.green.image, 4);
    };

    const code = await release("deploy", "--env", "staging", "--image", TAGGED, "--url", server.url, "--from-here");

    expect(harness.err).toEqual([]);
    expect(code).toBe(0);
    expect(harness.config.read().colors).toEqual({
      blue: { image: DIGEST_A, version: "1.3.0", weight: 100, task: TASK },
      green: { image: TAGGED, version: "1.4.0", weight: 0, minTasks: 4, task: TASK },
    });
    expect(harness.applier.applied).toHaveLength(1);
    expect(harness.aws.floors).toEqual([{ color: "green", tasks: 4 }]);
    expect(harness.clock.elapsedSeconds).toBe(30);
    expect(harness.out.join("\n")).toMatch(/^12:00:00Z deploy 1.4.0 to green \(0% of traffic, 4 tasks to match blue's 4 running\)$/m);
    expect(harness.out.join("\n")).toMatch(/^12:00:00Z waiting: green has 1 healthy target\(s\) of 4: 10.0.1.7: initial$/m);
    expect(harness.aws.verifyTasks).toEqual([]);
    expect(harness.out.join("\n")).toMatch(/^12:00:30Z verify: passed: initialize, tools\/list \(server_info\), server_info x5 all green 1.4.0$/m);
  });

  it("defaults the version to the image's tag and every output line carries a timestamp", async () => {
    harness = cliHarness(settledManifest());
    await release("deploy", "--env", "staging", "--image", TAGGED, "--url", server.url);
    // The exceptions are blocks: the manifest diff's headers and the verify task's own log lines.
    expect(harness.out.every((line) => /^\d\d:\d\d:\d\dZ /.test(line) || line.startsWith("---") || line.startsWith("+++") || line.startsWith("  | "))).toBe(true);
    expect(harness.config.read().colors.green.version).toBe("1.4.0");
  });

  it("refuses while a promotion is in progress, changing nothing", async () => {
    const inProgress = deployed();
    inProgress.colors.blue.weight = 50;
    inProgress.colors.green.weight = 50;
    harness = cliHarness(inProgress);

    const code = await release("deploy", "--env", "staging", "--image", DIGEST_B, "--url", server.url);

    expect(code).toBe(1);
    expect(harness.err).toEqual(["error: a promotion is in progress: the candidate green has 50% of traffic; run promote to finish it or rollback first, then deploy"]);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.config.read()).toEqual(inProgress);
  });

  it("refuses a mutable tag before touching anything", async () => {
    harness = cliHarness(settledManifest());
    expect(await release("deploy", "--env", "staging", "--image", "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mcp-server:latest")).toBe(1);
    expect(harness.err[0]).toMatch(/^error: --image .*:latest: the tag "latest" moves between builds/);
    expect(harness.applier.applied).toEqual([]);
  });

  it("gives up after the healthy timeout, saying what it waited for and that production is unaffected", async () => {
    harness = cliHarness(settledManifest());
    harness.aws.behaviour = (color, _poll, live) =>
      color === "blue" ? healthy(DIGEST_A, 2) : { ...healthy(live.colors.green.image, 2), targets: { healthy: 1, starting: 0, unhealthy: 1, draining: 0, reasons: ["10.0.1.8: unhealthy (Target.Timeout)"] } };

    const code = await release("deploy", "--env", "staging", "--image", DIGEST_B, "--url", server.url);

    expect(code).toBe(1);
    expect(harness.err).toEqual([
      "error: green was not ready after 600 s: green has 1 healthy target(s) of 2: 10.0.1.8: unhealthy (Target.Timeout); production traffic is unaffected (blue has 100%): fix the image or the settings and deploy again",
    ]);
    expect(harness.clock.elapsedSeconds).toBe(600);
  });

  it("stops at once when ECS's circuit breaker fails the deployment", async () => {
    harness = cliHarness(settledManifest());
    harness.aws.behaviour = (color, _poll, live) =>
      color === "blue" ? healthy(DIGEST_A) : { ...healthy(DIGEST_A), rollout: "failed", rolloutReason: "tasks failed to start", runningImage: live.colors.green.image };
    expect(await release("deploy", "--env", "staging", "--image", DIGEST_B)).toBe(1);
    expect(harness.err[0]).toMatch(/^error: ECS could not start .* on green: tasks failed to start; production traffic is unaffected/);
    expect(harness.clock.elapsedSeconds).toBe(0);
  });

  it("fails verify when the candidate reports another version", async () => {
    harness = cliHarness(settledManifest());
    expect(await release("deploy", "--env", "staging", "--image", DIGEST_B, "--version", "2.0.0", "--url", server.url, "--from-here")).toBe(1);
    expect(harness.err).toEqual([`error: verify ${server.url}: server_info version is "1.4.0", expected "2.0.0"`]);
  });

  it("in a dry run prints the manifest diff and the plan of the proposed manifest, and writes and applies nothing", async () => {
    harness = cliHarness(settledManifest());
    const before = harness.config.read();

    expect(await release("deploy", "--env", "staging", "--image", TAGGED, "--dry-run", "--commit")).toBe(0);

    expect(harness.config.read()).toEqual(before);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.recorder.commits).toEqual([]);
    expect(harness.applier.planned).toHaveLength(1);
    expect(harness.applier.planned[0]?.colors.green).toEqual({ image: TAGGED, version: "1.4.0", weight: 0, minTasks: 2, task: TASK });
    expect(harness.out).toEqual(
      expect.arrayContaining([
        `- colors.green.image: "${DIGEST_A}"`,
        `+ colors.green.image: "${TAGGED}"`,
        "+ colors.green.minTasks: 2",
        '- colors.green.version: "1.3.0"',
        '+ colors.green.version: "1.4.0"',
      ]),
    );
  });

  it("tags the new image and the stable one so the lifecycle policy keeps them, and a dry run tags nothing", async () => {
    harness = cliHarness(settledManifest());
    expect(await release("deploy", "--env", "staging", "--image", DIGEST_B, "--version", "1.4.0", "--dry-run")).toBe(0);
    expect(harness.aws.protected).toEqual([]);
    await release("deploy", "--env", "staging", "--image", DIGEST_B, "--version", "1.4.0");
    expect(harness.aws.protected).toEqual([settledManifest().colors[settledManifest().stable].image, DIGEST_B]);
    expect(harness.applier.applied).toHaveLength(1);
  });

  it("in a dry run without AWS still prints the manifest change, with the candidate at the minimum tasks", async () => {
    harness = cliHarness(settledManifest());
    harness.aws.observe = async () => {
      throw new AwsError("ecs:DescribeServices", Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    };
    expect(await release("deploy", "--env", "staging", "--image", TAGGED, "--dry-run")).toBe(0);
    expect(harness.out).toEqual(expect.arrayContaining([`+ colors.green.image: "${TAGGED}"`, "+ colors.green.minTasks: 2"]));
    expect(harness.out.join("\n")).toMatch(/dry run without AWS \(AWS ecs:DescribeServices failed: CredentialsProviderError: .*\): blue's running tasks are unknown/);
    expect(harness.applier.applied).toEqual([]);
  });

  it("without --dry-run, refuses to deploy when AWS cannot be reached", async () => {
    harness = cliHarness(settledManifest());
    harness.aws.observe = async () => {
      throw new AwsError("ecs:DescribeServices", new Error("denied"));
    };
    expect(await release("deploy", "--env", "staging", "--image", TAGGED)).toBe(1);
    expect(harness.err).toEqual(["error: AWS ecs:DescribeServices failed: denied"]);
  });
});

describe("release promote", () => {
  it("shifts traffic 10, 50, 100 with a bake after each, then lets the old colour go idle, committing every applied step", async () => {
    harness = cliHarness(deployed());

    const code = await release("promote", "--env", "staging", "--commit");

    expect(harness.err).toEqual([]);
    expect(code).toBe(0);
    expect(weights(harness)).toEqual(["90/10", "50/50", "0/100", "0/100"]);
    expect(harness.clock.elapsedSeconds).toBe(900);
    expect(harness.config.read()).toEqual({
      environment: "staging",
      stable: "green",
      colors: { blue: { image: DIGEST_A, version: "1.3.0", weight: 0, task: TASK }, green: { image: DIGEST_B, version: "1.4.0", weight: 100, task: TASK } },
    });
    // The old colour kept its tasks through the final bake, and only then fell to the idle minimum.
    expect(harness.applier.applied[2].colors.blue.minTasks).toBe(2);
    expect(harness.aws.floors).toEqual([{ color: "blue", tasks: 1 }]);
    expect(harness.recorder.commits.map((c) => c.message)).toEqual([
      "release(staging): green 10% (1.4.0)",
      "release(staging): green 50% (1.4.0)",
      "release(staging): green 100% (1.4.0)",
      "release(staging): blue idle, green stable (1.4.0)",
    ]);
    // Each commit holds exactly what was applied.
    expect(harness.recorder.commits.map((c) => c.content)).toEqual(harness.applier.applied);
  });

  it("rolls back at once when the candidate's alarm fires during a bake, and exits non-zero", async () => {
    harness = cliHarness(deployed());
    harness.aws.behaviour = (color, _poll, live) =>
      healthy(live.colors[color].image, 2, color === "green" && live.colors.green.weight === 50 && harness.clock.elapsedSeconds >= 420 ? "ALARM" : "OK");

    const code = await release("promote", "--env", "staging", "--commit");

    expect(code).toBe(1);
    expect(harness.err).toEqual([
      "error: promotion of green (1.4.0) rolled back at 50%: the alarm mcp-staging-green-unhealthy is in ALARM; all traffic is on blue (1.3.0)",
    ]);
    expect(weights(harness)).toEqual(["90/10", "50/50", "100/0"]);
    expect(harness.clock.elapsedSeconds).toBe(420);
    expect(harness.config.read()).toMatchObject({ stable: "blue", colors: { blue: { image: DIGEST_A, weight: 100 }, green: { image: DIGEST_B, weight: 0 } } });
    expect(harness.recorder.commits.map((c) => c.message).at(-1)).toBe("release(staging): rollback to blue 100% (1.3.0)");
    // The listener was found before the promotion; on the alarm, moving the traffic was the one
    // AWS call, ahead of the apply that writes the manifest (two applies had gone before it).
    expect(harness.aws.trafficLog).toEqual(["prepare 80", "move 100/0 (applies so far: 2)"]);
  });

  it("rolls back to the previous colour when a target turns unhealthy during the final bake, although the candidate was already stable", async () => {
    harness = cliHarness(deployed());
    const sick: ColorObservation = { ...healthy(DIGEST_B), targets: { healthy: 1, starting: 0, unhealthy: 1, draining: 0, reasons: ["10.0.2.2: unhealthy (Target.FailedHealthChecks)"] } };
    harness.aws.behaviour = (color, _poll, live) => (color === "green" && live.colors.green.weight === 100 ? sick : healthy(live.colors[color].image));

    expect(await release("promote", "--env", "staging")).toBe(1);

    expect(harness.err[0]).toMatch(/^error: promotion of green \(1.4.0\) rolled back at 100%: green has 1 unhealthy target\(s\): 10.0.2.2/);
    expect(weights(harness)).toEqual(["90/10", "50/50", "0/100", "100/0"]);
    expect(harness.config.read()).toMatchObject({ stable: "blue", colors: { blue: { weight: 100, minTasks: 2 }, green: { weight: 0 } } });
  });

  it("refuses to start when the candidate has unhealthy targets, moving no traffic", async () => {
    harness = cliHarness(deployed());
    harness.aws.behaviour = (color, _poll, live) => (color === "green" ? { ...healthy(DIGEST_B), targets: { healthy: 0, starting: 0, unhealthy: 2, draining: 0, reasons: ["a: unhealthy", "b: unhealthy"] } } : healthy(live.colors.blue.image));
    expect(await release("promote", "--env", "staging")).toBe(1);
    expect(harness.err).toEqual(["error: refusing to move traffic to green: green has 2 unhealthy target(s): a: unhealthy; b: unhealthy"]);
    expect(harness.applier.applied).toEqual([]);
  });

  it("refuses when there is nothing new to promote", async () => {
    harness = cliHarness(settledManifest());
    expect(await release("promote", "--env", "staging")).toBe(1);
    expect(harness.err).toEqual(["error: nothing to promote: green runs the same image as blue; deploy a new image first"]);
  });

  it("leaves the manifest at what was last applied when an apply fails, and stops", async () => {
    harness = cliHarness(deployed());
    harness.applier.failOn = new Set([2]);

    expect(await release("promote", "--env", "staging", "--commit")).toBe(1);

    expect(harness.err[0]).toMatch(/^error: apply failed \(terraform apply failed for staging \(exit 1\)\); .*staging.json still holds the last applied manifest/);
    expect(harness.config.read()).toEqual(harness.applier.live);
    expect(weights(harness)).toEqual(["90/10"]);
    expect(harness.recorder.commits).toHaveLength(1);
  });

  it("resumes an interrupted promotion at the next step", async () => {
    const at10 = deployed();
    at10.colors.blue.weight = 90;
    at10.colors.green.weight = 10;
    harness = cliHarness(at10);
    expect(await release("promote", "--env", "staging")).toBe(0);
    expect(weights(harness)).toEqual(["50/50", "0/100", "0/100"]);
  });

  it("in a dry run shows every step's change and plans the first, applying nothing", async () => {
    harness = cliHarness(deployed());
    expect(await release("promote", "--env", "staging", "--dry-run")).toBe(0);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.applier.planned.map((m) => m && `${m.colors.blue.weight}/${m.colors.green.weight}`)).toEqual(["90/10"]);
    expect(harness.out.filter((l) => l.includes("dry run: green"))).toHaveLength(3);
    expect(harness.config.read()).toEqual(deployed());
  });

  it("in a dry run without AWS still shows every step's manifest change, and says readiness went unchecked", async () => {
    harness = cliHarness(deployed());
    harness.aws.observe = async () => {
      throw new AwsError("ecs:DescribeServices", new Error("Could not load credentials from any providers"));
    };
    expect(await release("promote", "--env", "staging", "--dry-run")).toBe(0);
    expect(harness.out.join("\n")).toMatch(/dry run without AWS \(AWS ecs:DescribeServices failed: .*\): the candidate's readiness is not checked/);
    expect(harness.out.filter((l) => l.includes("dry run: green"))).toHaveLength(3);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.config.read()).toEqual(deployed());
  });
});

describe("release rollback", () => {
  it("moves the listener's traffic first, with one direct call, then applies and writes the manifest", async () => {
    const at50 = deployed();
    at50.colors.blue.weight = 50;
    at50.colors.green.weight = 50;
    harness = cliHarness(at50);
    expect(await release("rollback", "--env", "staging")).toBe(0);
    expect(harness.aws.trafficLog).toEqual(["prepare 80", "move 100/0 (applies so far: 0)"]);
    expect(weights(harness)).toEqual(["100/0"]);
    expect(harness.config.read()).toMatchObject({ colors: { blue: { weight: 100 }, green: { weight: 0 } } });
  });

  it("moves all traffic to the stable colour in one apply", async () => {
    const at50 = deployed();
    at50.colors.blue.weight = 50;
    at50.colors.green.weight = 50;
    harness = cliHarness(at50);

    expect(await release("rollback", "--env", "staging", "--commit")).toBe(0);

    expect(weights(harness)).toEqual(["100/0"]);
    expect(harness.config.read()).toMatchObject({ stable: "blue", colors: { blue: { image: DIGEST_A, weight: 100 }, green: { weight: 0 } } });
    expect(harness.recorder.commits.map((c) => c.message)).toEqual(["release(staging): rollback to blue 100% (1.3.0)"]);
  });

  it("does nothing when the stable colour already has all traffic", async () => {
    harness = cliHarness(deployed());
    expect(await release("rollback", "--env", "staging")).toBe(0);
    expect(harness.applier.applied).toEqual([]);
    expect(harness.out.at(-1)).toMatch(/nothing to roll back: blue \(1.3.0\) already has 100% of traffic$/);
  });
});

describe("release status", () => {
  it("shows the manifest next to what is live and names any drift", async () => {
    harness = cliHarness(deployed());
    harness.aws.behaviour = (color) => (color === "blue" ? healthy(DIGEST_A, 3) : { ...healthy(DIGEST_A, 1), alarm: "INSUFFICIENT_DATA" });

    expect(await release("status", "--env", "staging")).toBe(0);

    const text = harness.out.join("\n");
    expect(text).toMatch(/^colour +role +version +weight +live +tasks +targets +alarm +image \(manifest\)$/m);
    expect(text).toMatch(/^blue +stable +1\.3\.0 +100% +100% +3\/3 +3\/3 healthy +OK +\S+a{64}$/m);
    expect(text).toMatch(/^green +candidate, test +1\.4\.0 +0% +0% +1\/1 \(min 3\) +1\/1 healthy +INSUFFICIENT_DATA +\S+b{64} \(running \S+a{64}\)$/m);
    expect(text).toMatch(/drift: green runs \S+a{64}, not \S+b{64}/);
  });

  it("says so when ECS rolled a colour's deployment back, which applying the manifest would redeploy", async () => {
    harness = cliHarness(deployed());
    harness.aws.behaviour = (color, _poll, live) =>
      color === "green" ? { ...healthy(DIGEST_A, 1), rollout: "failed", rolloutReason: "tasks failed to start" } : healthy(live.colors[color].image, 3);
    expect(await release("status", "--env", "staging")).toBe(0);
    expect(harness.out.join("\n")).toMatch(/drift: ECS rolled back green's last deployment \(tasks failed to start\); applying the manifest would deploy that revision again/);
    expect(harness.out.join("\n")).not.toMatch(/live matches the manifest/);
  });

  it("names a running task definition whose settings are not the colour's recorded ones (a change outside Terraform)", async () => {
    harness = cliHarness(deployed());
    const recorded = { cpu: TASK.cpu, memory: TASK.memory, environment: { ...TASK.environment, REDIS_URL: "rediss://added-by-the-stack" } };
    harness.aws.behaviour = (color, _poll, live) => ({
      ...healthy(live.colors[color].image, 3),
      // Variables the stack adds beside the recorded ones (REDIS_URL here) are not drift.
      runningTask: color === "green" ? { ...recorded, cpu: 1024, environment: { ...recorded.environment, LOG_LEVEL: "error" } } : recorded,
    });
    expect(await release("status", "--env", "staging")).toBe(0);
    const drift = harness.out.filter((line) => line.includes("drift:"));
    expect(drift).toEqual([
      expect.stringMatching(new RegExp(`drift: green's running task definition has cpu 1024, not ${TASK.cpu}, LOG_LEVEL="error", not "${TASK.environment.LOG_LEVEL}" \\(its recorded task settings\\)`)),
    ]);
  });

  it("prints one clear line, never a stack trace, when AWS cannot be reached", async () => {
    harness = cliHarness(deployed());
    harness.aws.observe = async () => {
      throw new AwsError("ecs:DescribeServices", Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    };
    expect(await release("status", "--env", "staging", "--dry-run")).toBe(1);
    expect(harness.err).toEqual(["error: AWS ecs:DescribeServices failed: CredentialsProviderError: Could not load credentials from any providers"]);
    // The manifest needs no AWS, so it is shown all the same.
    const text = harness.out.join("\n");
    expect(text).toMatch(/staging: manifest .*staging.json, stable blue, candidate green \(live state unavailable\)/);
    expect(text).toMatch(/^blue +stable +1\.3\.0 +100% +\S+a{64}$/m);
    expect(text).toMatch(/^green +candidate +1\.4\.0 +0% +\S+b{64}$/m);
  });
});

describe("release CLI", () => {
  it("names a missing --env", async () => {
    harness = cliHarness(deployed());
    expect(await release("rollback")).toBe(1);
    expect(harness.err[0]).toBe("error: required option '--env <env>' not specified");
  });

  it("names an unknown environment and lists the known ones", async () => {
    harness = cliHarness(deployed());
    expect(await release("status", "--env", "nowhere")).toBe(1);
    expect(harness.err[0]).toMatch(/^error: .*environments\/nowhere.json is invalid:\n {2}- no environment "nowhere"; the known ones are .*staging/);
  });
});
