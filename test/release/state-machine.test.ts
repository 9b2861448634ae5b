import fc from "fast-check";
import { parseReleaseManifest } from "../../config/load";
import { candidateColor, COLORS, type Color, type ReleaseManifest } from "../../config/release-manifest";
import { ReleaseError } from "../../release/errors";
import {
  defaultVersion,
  finishPromotion,
  planBothColours,
  planDeploy,
  planRollback,
  planStep,
  readinessProblem,
  remainingSteps,
  trafficProblem,
  type ColorObservation,
  type ReleasePolicy,
} from "../../release/state-machine";
import type { TaskSettings } from "../../config/schema";
import { ACCOUNT, DIGEST_A, DIGEST_B, healthy, settledManifest, TAGGED, TASK } from "./support";

const policy: ReleasePolicy = { minTasks: 2, maxTasks: 6, idleMinTasks: 1, steps: [10, 50, 100] };
const IMAGES = [DIGEST_A, DIGEST_B, TAGGED, `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mcp-server:2.0.0`];

const image = fc.constantFrom(...IMAGES);

/** Task settings a config may ask for: a colour's own (size, variables), and one both colours share (the port). */
const OWN_TASKS: TaskSettings[] = [TASK, { ...TASK, cpu: 1024, memory: 2048 }, { ...TASK, environment: { ...TASK.environment, LOG_LEVEL: "warn" } }];
const SHARED_CHANGE: TaskSettings = { ...TASK, containerPort: 9090 };
const ownTask = fc.constantFrom(...OWN_TASKS);
const anyTask = fc.constantFrom(...OWN_TASKS, SHARED_CHANGE);
const color = fc.constantFrom<Color>(...COLORS);

/** Any valid manifest: either colour stable with 1-100% of traffic, any images, optional overrides. */
const manifestArb: fc.Arbitrary<ReleaseManifest> = fc
  .record({
    stable: color,
    candidateWeight: fc.integer({ min: 0, max: 99 }),
    images: fc.tuple(image, image),
    versions: fc.tuple(fc.constantFrom("1.3.0", "1.4.0"), fc.constantFrom("1.3.0", "1.4.0")),
    minTasks: fc.tuple(fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined })),
    tasks: fc.tuple(ownTask, ownTask),
  })
  .map(({ stable, candidateWeight, images, versions, minTasks, tasks }) => {
    const weight = (c: Color) => (c === stable ? 100 - candidateWeight : candidateWeight);
    const entry = (c: Color, i: number) => ({ image: images[i], version: versions[i], weight: weight(c), task: tasks[i], ...(minTasks[i] === undefined ? {} : { minTasks: minTasks[i] }) });
    return parseReleaseManifest({ environment: "staging", stable, colors: { blue: entry("blue", 0), green: entry("green", 1) } });
  });

/** Any observation of a colour, biased towards the manifest's own image so healthy paths are common. */
const observationArb = (manifestImage?: string): fc.Arbitrary<ColorObservation> =>
  fc.record({
    runningImage: fc.oneof(
      { weight: 3, arbitrary: fc.constant(manifestImage) },
      { weight: 1, arbitrary: fc.option(image, { nil: undefined }) },
    ),
    rollout: fc.constantFrom<ColorObservation["rollout"]>("completed", "completed", "in-progress", "failed", "missing"),
    runningTasks: fc.integer({ min: 0, max: 6 }),
    desiredTasks: fc.integer({ min: 0, max: 6 }),
    targets: fc.record({
      healthy: fc.integer({ min: 0, max: 4 }),
      starting: fc.integer({ min: 0, max: 2 }),
      unhealthy: fc.constantFrom(0, 0, 0, 1, 2),
      draining: fc.integer({ min: 0, max: 2 }),
      reasons: fc.constant([] as string[]),
    }),
    alarm: fc.constantFrom<ColorObservation["alarm"]>("OK", "OK", "INSUFFICIENT_DATA", "ALARM", "MISSING"),
  });

const observedArb = (manifest: ReleaseManifest) =>
  fc.record({ blue: observationArb(manifest.colors.blue.image), green: observationArb(manifest.colors.green.image) });

/** One release operation, as the commands perform them, with whatever AWS reports at that moment. */
type Operation =
  | { kind: "deploy"; image: string; version: string; task: TaskSettings; live: ColorObservation }
  | { kind: "both"; task: TaskSettings }
  | { kind: "step"; percent: number; observed: Record<Color, ColorObservation> }
  | { kind: "finish" }
  | { kind: "rollback" };

const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant("deploy" as const), image, version: fc.constantFrom("1.4.0", "2.0.0"), task: anyTask, live: observationArb() }),
  fc.record({ kind: fc.constant("both" as const), task: anyTask }),
  fc.record({
    kind: fc.constant("step" as const),
    percent: fc.oneof(fc.constantFrom(10, 50, 100), fc.integer({ min: -5, max: 120 })),
    observed: fc.record({ blue: observationArb(), green: observationArb() }),
  }),
  fc.constant({ kind: "finish" as const }),
  fc.constant({ kind: "rollback" as const }),
);

/** Applies an operation; a ReleaseError (a refusal) leaves the manifest as it was. Any other error is a bug and fails the property. */
function run(manifest: ReleaseManifest, op: Operation): ReleaseManifest {
  try {
    switch (op.kind) {
      case "deploy":
        return planDeploy(manifest, op.image, op.version, op.task, op.live, policy);
      case "both":
        return planBothColours(manifest, op.task);
      case "step": {
        // Observations usually run the manifest's images, so steps are often allowed.
        const observed = {
          blue: { ...op.observed.blue, runningImage: op.observed.blue.runningImage ?? manifest.colors.blue.image },
          green: { ...op.observed.green, runningImage: op.observed.green.runningImage ?? manifest.colors.green.image },
        };
        return planStep(manifest, op.percent, observed, policy);
      }
      case "finish":
        return finishPromotion(manifest);
      case "rollback":
        return planRollback(manifest);
    }
  } catch (error) {
    if (error instanceof ReleaseError) return manifest;
    throw error;
  }
}

const weightsOf = (m: ReleaseManifest) => COLORS.map((c) => m.colors[c].weight);

describe("release state machine", () => {
  it("keeps weights whole percentages summing to 100, with traffic on the stable colour, through any sequence of operations", () => {
    fc.assert(
      fc.property(manifestArb, fc.array(operationArb, { maxLength: 12 }), (start, ops) => {
        let manifest = start;
        for (const op of ops) {
          manifest = run(manifest, op);
          const weights = weightsOf(manifest);
          expect(weights.every((w) => Number.isInteger(w) && w >= 0 && w <= 100)).toBe(true);
          expect(weights[0] + weights[1]).toBe(100);
          expect(manifest.colors[manifest.stable].weight).toBeGreaterThan(0);
          // The schema agrees: what the machine produces is always a manifest the stack accepts.
          expect(() => parseReleaseManifest(manifest)).not.toThrow();
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never changes the image of a colour that has traffic before or after a transition", () => {
    fc.assert(
      fc.property(manifestArb, fc.array(operationArb, { maxLength: 12 }), (start, ops) => {
        let manifest = start;
        for (const op of ops) {
          const next = run(manifest, op);
          for (const c of COLORS) {
            if (manifest.colors[c].weight > 0 || next.colors[c].weight > 0) expect(next.colors[c].image).toBe(manifest.colors[c].image);
          }
          manifest = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it("changes a live colour's task settings only by the explicit both-colours command; a promotion carries the candidate's own settings live", () => {
    fc.assert(
      fc.property(manifestArb, fc.array(operationArb, { maxLength: 12 }), (start, ops) => {
        let manifest = start;
        for (const op of ops) {
          const next = run(manifest, op);
          for (const c of COLORS) {
            const live = manifest.colors[c].weight > 0 || next.colors[c].weight > 0;
            if (live && op.kind !== "both") expect(next.colors[c].task).toEqual(manifest.colors[c].task);
            // A colour that gains traffic brings the settings a deploy recorded for it while it was idle.
            if (manifest.colors[c].weight === 0 && next.colors[c].weight > 0) expect(next.colors[c].task).toEqual(manifest.colors[c].task);
          }
          if (op.kind === "both" && next !== manifest) expect([next.colors.blue.task, next.colors.green.task]).toEqual([op.task, op.task]);
          manifest = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it("moves traffic only to the candidate, and only while it runs its manifest image with healthy targets and no alarm", () => {
    fc.assert(
      fc.property(
        manifestArb.chain((m) => fc.tuple(fc.constant(m), observedArb(m), fc.integer({ min: 1, max: 100 }))),
        ([manifest, observed, percent]) => {
          const candidate = candidateColor(manifest);
          let next: ReleaseManifest;
          try {
            next = planStep(manifest, percent, observed, policy);
          } catch (error) {
            expect(error).toBeInstanceOf(ReleaseError);
            return;
          }
          const seen = observed[candidate];
          expect(next.colors[candidate].weight).toBeGreaterThan(manifest.colors[candidate].weight);
          expect(seen.runningImage).toBe(manifest.colors[candidate].image);
          expect(seen.rollout).toBe("completed");
          expect(seen.targets.unhealthy).toBe(0);
          expect(seen.targets.healthy).toBeGreaterThan(0);
          expect(["OK", "INSUFFICIENT_DATA"]).toContain(seen.alarm);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("rolls back from any reachable state to one colour at 100% running the last known good image", () => {
    fc.assert(
      fc.property(color, image, fc.array(operationArb, { maxLength: 15 }), (stable, startImage, ops) => {
        let manifest = settledManifest({ blue: { image: startImage }, green: { image: startImage } }, stable);
        // The model: the image of whichever colour last held all traffic.
        let lastKnownGood = startImage;
        for (const op of ops) {
          manifest = run(manifest, op);
          const full = COLORS.find((c) => manifest.colors[c].weight === 100);
          if (full) lastKnownGood = manifest.colors[full].image;
          const rolledBack = planRollback(manifest);
          const at100 = COLORS.filter((c) => rolledBack.colors[c].weight === 100);
          expect(at100).toEqual([rolledBack.stable]);
          expect(rolledBack.colors[rolledBack.stable].image).toBe(lastKnownGood);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("deploys only to a candidate without traffic, leaving the stable colour untouched and raising the candidate to the live task count", () => {
    fc.assert(
      fc.property(manifestArb, image, observationArb(), (manifest, newImage, live) => {
        const candidate = candidateColor(manifest);
        if (manifest.colors[candidate].weight > 0) {
          expect(() => planDeploy(manifest, newImage, "1.4.0", TASK, live, policy)).toThrow(/a promotion is in progress.*run promote to finish it or rollback first/);
          return;
        }
        const next = planDeploy(manifest, newImage, "1.4.0", TASK, live, policy);
        expect(next.colors[manifest.stable]).toEqual(manifest.colors[manifest.stable]);
        expect(next.colors[candidate]).toMatchObject({ image: newImage, version: "1.4.0", weight: 0, task: TASK });
        expect(next.colors[candidate].minTasks).toBe(Math.min(policy.maxTasks, Math.max(policy.minTasks, live.runningTasks)));
      }),
    );
  });
});

describe("planDeploy", () => {
  it("refuses a mutable tag, naming the flag and the fix", () => {
    expect(() => planDeploy(settledManifest(), "repo:latest", "1.4.0", TASK, healthy(DIGEST_A), policy)).toThrow(
      '--image repo:latest: the tag "latest" moves between builds; pin the image by digest or by an immutable tag such as the commit SHA',
    );
  });

  it("refuses a version the server would not accept as APP_VERSION", () => {
    expect(() => planDeploy(settledManifest(), DIGEST_B, "1.4.0 beta", TASK, healthy(DIGEST_A), policy)).toThrow(/--version "1.4.0 beta": expected letters, digits/);
  });
});

describe("task settings", () => {
  it("refuses a deploy whose config changes a setting both colours share, naming it and the both-colours command", () => {
    expect(() => planDeploy(settledManifest(), DIGEST_B, "1.4.0", SHARED_CHANGE, healthy(DIGEST_A), policy)).toThrow(
      "the config changes containerPort (8080 -> 9090), which both colours share, so a deploy to green alone cannot take it; change it for both at once with npm run release -- settings --env staging --both-colours, or revert it",
    );
  });

  it("refuses a deploy from a manifest that records no task settings, naming the command that records them", () => {
    const { task: _blue, ...blue } = settledManifest().colors.blue;
    const { task: _green, ...green } = settledManifest().colors.green;
    const bare = parseReleaseManifest({ ...settledManifest(), colors: { blue, green } });
    expect(() => planDeploy(bare, DIGEST_B, "1.4.0", TASK, healthy(DIGEST_A), policy)).toThrow(
      /colors\.blue\.task and colors\.green\.task missing: .*npm run release -- settings --env staging --both-colours/,
    );
  });

  it("changes both colours at once only outside a promotion, and only when something changes", () => {
    expect(planBothColours(settledManifest(), SHARED_CHANGE).colors.blue.task).toEqual(SHARED_CHANGE);
    expect(() => planBothColours(settledManifest(), TASK)).toThrow("nothing to change: both colours already record the config's task settings");
    const at10 = planStep(settledManifest({ green: { image: DIGEST_B } }), 10, { blue: healthy(DIGEST_A), green: healthy(DIGEST_B) }, policy);
    expect(() => planBothColours(at10, SHARED_CHANGE)).toThrow(/a promotion is in progress \(green has 10%\)/);
  });
});

describe("defaultVersion", () => {
  it("is the tag of a tagged image", () => expect(defaultVersion(TAGGED)).toBe("1.4.0"));
  it("is the tag when an image has both tag and digest", () => expect(defaultVersion(`repo:2.1.0@sha256:${"c".repeat(64)}`)).toBe("2.1.0"));
  it("is the short digest of an image pinned by digest only", () => expect(defaultVersion(DIGEST_B)).toBe("bbbbbbbbbbbb"));
});

describe("planStep", () => {
  const deployed = settledManifest({ green: { image: DIGEST_B, version: "1.4.0", minTasks: 3 } });
  const fine = { blue: healthy(DIGEST_A, 3), green: healthy(DIGEST_B, 3) };

  it("splits traffic between the colours below 100%", () => {
    const next = planStep(deployed, 10, fine, policy);
    expect(weightsOf(next)).toEqual([90, 10]);
    expect(next.stable).toBe("blue");
  });

  it("at 100% makes the candidate stable and holds the old colour's running tasks for a fast rollback", () => {
    const next = planStep(planStep(deployed, 50, fine, policy), 100, { ...fine, blue: healthy(DIGEST_A, 5) }, policy);
    expect(next.stable).toBe("green");
    expect(next.colors.blue).toEqual({ image: DIGEST_A, version: "1.3.0", weight: 0, minTasks: 5, task: TASK });
    expect(finishPromotion(next).colors).toEqual({
      blue: { image: DIGEST_A, version: "1.3.0", weight: 0, task: TASK },
      green: { image: DIGEST_B, version: "1.4.0", weight: 100, task: TASK },
    });
  });

  it("refuses a candidate with an unhealthy target, saying which", () => {
    const sick = { ...fine, green: { ...fine.green, targets: { ...fine.green.targets, unhealthy: 1, reasons: ["10.0.1.5: unhealthy (Target.ResponseCodeMismatch)"] } } };
    expect(() => planStep(deployed, 10, sick, policy)).toThrow(
      "refusing to move traffic to green: green has 1 unhealthy target(s): 10.0.1.5: unhealthy (Target.ResponseCodeMismatch)",
    );
  });

  it("refuses a candidate that does not run its manifest image", () => {
    expect(() => planStep(deployed, 10, { ...fine, green: healthy(DIGEST_A) }, policy)).toThrow(/green runs .*a{64}, not its manifest image .*b{64}; run deploy/);
  });

  it("refuses a candidate whose alarm is missing, since it could not be watched", () => {
    expect(() => planStep(deployed, 10, { ...fine, green: healthy(DIGEST_B, 3, "MISSING") }, policy)).toThrow(/composite alarm does not exist/);
  });

  it("refuses to move backwards", () => {
    expect(() => planStep(planStep(deployed, 50, fine, policy), 10, fine, policy)).toThrow(/cannot move green from 50% to 10%/);
  });
});

describe("remainingSteps", () => {
  it("resumes an interrupted promotion at the next configured step", () => {
    const at10 = parseReleaseManifest({ ...settledManifest(), colors: { blue: { image: DIGEST_A, version: "1", weight: 90, task: TASK }, green: { image: DIGEST_B, version: "2", weight: 10, task: TASK } } });
    expect(remainingSteps(at10, policy)).toEqual([50, 100]);
  });
});

describe("readiness and traffic checks", () => {
  const deployed = settledManifest({ green: { image: DIGEST_B, version: "1.4.0", minTasks: 3 } });

  it("waits until the candidate runs every task of its minimum with every target healthy", () => {
    expect(readinessProblem(deployed, "green", healthy(DIGEST_B, 2), policy)).toBe("green runs 2 of 3 tasks");
    expect(readinessProblem(deployed, "green", { ...healthy(DIGEST_B, 3), targets: { healthy: 2, starting: 1, unhealthy: 0, draining: 1, reasons: ["10.0.1.9: initial"] } }, policy)).toBe(
      "green has 2 healthy target(s) of 3: 10.0.1.9: initial",
    );
    expect(readinessProblem(deployed, "green", healthy(DIGEST_B, 3), policy)).toBeUndefined();
  });

  it("lets traffic reach a candidate whose alarm has no data yet (a colour without traffic has few datapoints)", () => {
    expect(trafficProblem(deployed, "green", healthy(DIGEST_B, 3, "INSUFFICIENT_DATA"))).toBeUndefined();
  });
});
