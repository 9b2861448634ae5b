import { isDeepStrictEqual } from "node:util";
import {
  bothColoursCommand,
  candidateColor,
  COLORS,
  imageProblem,
  minimumTasks,
  otherColor,
  requireTaskSettings,
  type Color,
  type ReleaseManifest,
} from "../config/release-manifest";
import { SHARED_TASK_SETTINGS, type TaskSettings } from "../config/schema";
import { namePrefix, resourceNames } from "../config/names";
import { ReleaseError } from "./errors";

/*
 * The release as a pure state machine: given the manifest and what AWS reports, compute the next
 * manifest or refuse with a ReleaseError naming the problem and the fix. Every invariant of a
 * release is enforced here, where property tests can reach it; the commands only do I/O around it.
 *
 * Invariants:
 *  1. Weights are whole percentages summing to 100, and the stable colour has traffic.
 *  2. The image and task settings of a colour with traffic (before or after a transition) never
 *     change; only planBothColours, an explicit command, changes a live colour's settings.
 *  3. Traffic moves forward only to the candidate, and only while it runs its manifest image
 *     with at least one healthy target, none unhealthy and its alarm not in ALARM.
 *  4. A rollback leaves one colour at 100%: the stable colour, whose image is the last known good.
 */

/** Health of one colour's targets in its target group. */
export interface TargetSummary {
  readonly healthy: number;
  /** Registering (initial) targets: not yet in service, not failing either. */
  readonly starting: number;
  /** Failing their health check, or unavailable. */
  readonly unhealthy: number;
  /** Leaving the target group; they take no new requests. */
  readonly draining: number;
  /** Why targets are not healthy, for messages ("10.0.1.5: unhealthy (Target.ResponseCodeMismatch)"). */
  readonly reasons: readonly string[];
}

export type RolloutState = "completed" | "in-progress" | "failed" | "missing";
export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA" | "MISSING";

/** What AWS reports about one colour. */
export interface ColorObservation {
  /** Image of the ECS service's primary deployment (what new tasks run); undefined when there is no service. */
  readonly runningImage?: string;
  /** Task settings of that deployment's task definition, as far as they can be read back; undefined when unknown. */
  readonly runningTask?: RunningTask;
  /** State of that deployment; "failed" when the circuit breaker gave up on it. */
  readonly rollout: RolloutState;
  readonly rolloutReason?: string;
  readonly runningTasks: number;
  readonly desiredTasks: number;
  readonly targets: TargetSummary;
  /** State of the colour's composite alarm mcp-<env>-<color>-unhealthy. */
  readonly alarm: AlarmState;
}

/** What a task definition says of the settings a manifest records: its size and the server container's environment. */
export interface RunningTask {
  readonly cpu: number;
  readonly memory: number;
  readonly environment: Readonly<Record<string, string>>;
}

/** How the running task definition differs from the colour's recorded task settings; empty when it matches or is unknown. */
export function runningTaskDrift(manifest: ReleaseManifest, color: Color, seen: ColorObservation): string[] {
  const task = manifest.colors[color].task;
  const running = seen.runningTask;
  if (!task || !running) return [];
  const drift: string[] = [];
  if (running.cpu !== task.cpu) drift.push(`cpu ${running.cpu}, not ${task.cpu}`);
  if (running.memory !== task.memory) drift.push(`memory ${running.memory}, not ${task.memory}`);
  // The task definition's environment also holds what the stack adds (REDIS_URL, PORT, ...): compare the recorded keys only.
  for (const [key, value] of Object.entries(task.environment)) {
    if (running.environment[key] !== value) drift.push(`${key}=${running.environment[key] === undefined ? "(unset)" : JSON.stringify(running.environment[key])}, not ${JSON.stringify(value)}`);
  }
  return drift;
}

/** The task counts and steps a release works with (from the environment config). */
export interface ReleasePolicy {
  /** Fewest tasks of a colour with traffic (config service.minTasks). */
  readonly minTasks: number;
  /** Most tasks of a colour (config service.maxTasks). */
  readonly maxTasks: number;
  /** Fewest tasks of a colour without traffic (config service.idleMinTasks). */
  readonly idleMinTasks: number;
  /** Candidate traffic after each promotion step, rising to 100 (config release.steps). */
  readonly steps: readonly number[];
}

/** APP_VERSION as the server accepts it. */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** The version an image reports by default: its tag, else the first 12 hex digits of its digest. */
export function defaultVersion(image: string): string {
  const problem = imageProblem(image);
  if (problem) throw new ReleaseError(`--image ${image}: ${problem}`);
  const [name, digest] = image.split("@sha256:");
  const tag = /:([\w][\w.-]{0,127})$/.exec(name);
  return tag ? tag[1] : digest.slice(0, 12);
}

/**
 * Puts a new image and the config's task settings on the candidate (0%) colour, and raises its
 * capacity to match the live colour. The live colour keeps its own settings.
 */
export function planDeploy(
  manifest: ReleaseManifest,
  image: string,
  version: string,
  task: TaskSettings,
  live: Pick<ColorObservation, "runningTasks">,
  policy: ReleasePolicy,
): ReleaseManifest {
  requireTaskSettings(manifest);
  const problem = imageProblem(image);
  if (problem) throw new ReleaseError(`--image ${image}: ${problem}`);
  if (!VERSION.test(version)) throw new ReleaseError(`--version "${version}": expected letters, digits, ".", "_", "+" or "-" (what the server accepts as APP_VERSION)`);
  const candidate = candidateColor(manifest);
  const weight = manifest.colors[candidate].weight;
  if (weight > 0) {
    throw new ReleaseError(
      `a promotion is in progress: the candidate ${candidate} has ${weight}% of traffic; run promote to finish it or rollback first, then deploy`,
    );
  }
  const stableTask = manifest.colors[manifest.stable].task!;
  for (const key of SHARED_TASK_SETTINGS) {
    if (!isDeepStrictEqual(task[key], stableTask[key])) {
      throw new ReleaseError(
        `the config changes ${key} (${JSON.stringify(stableTask[key])} -> ${JSON.stringify(task[key])}), which both colours share, so a deploy to ${candidate} alone cannot take it; change it for both at once with ${bothColoursCommand(manifest.environment)}, or revert it`,
      );
    }
  }
  const minTasks = Math.min(policy.maxTasks, Math.max(policy.minTasks, live.runningTasks));
  return checked(manifest, {
    ...manifest,
    colors: { ...manifest.colors, [candidate]: { image, version, weight: 0, minTasks, task } },
  });
}

/**
 * The explicit exception to invariant 2: the same task settings on both colours at once, so ECS
 * replaces the live colour's tasks in place (a rolling deployment, outside any traffic shift).
 * For changes that cannot wait for a release, such as a security fix, or that both colours share.
 */
export function planBothColours(manifest: ReleaseManifest, task: TaskSettings): ReleaseManifest {
  const candidate = candidateColor(manifest);
  if (manifest.colors[candidate].weight > 0) {
    throw new ReleaseError(`a promotion is in progress (${candidate} has ${manifest.colors[candidate].weight}%); run promote to finish it or rollback first, then change both colours`);
  }
  if (COLORS.every((color) => isDeepStrictEqual(manifest.colors[color].task, task))) {
    throw new ReleaseError(`nothing to change: both colours already record the config's task settings`);
  }
  return { ...manifest, colors: { blue: { ...manifest.colors.blue, task }, green: { ...manifest.colors.green, task } } };
}

/** The task settings that differ between what a colour records and `task`, as "field: recorded -> wanted" lines. */
export function taskSettingsDiff(recorded: TaskSettings | undefined, task: TaskSettings): string[] {
  return (Object.keys(task) as (keyof TaskSettings)[])
    .filter((key) => !isDeepStrictEqual(recorded?.[key], task[key]))
    .map((key) => `${key}: ${recorded ? JSON.stringify(recorded[key]) : "(not recorded)"} -> ${JSON.stringify(task[key])}`);
}

/** Why a colour cannot take production traffic yet, or undefined when it can. */
export function trafficProblem(manifest: ReleaseManifest, color: Color, seen: ColorObservation): string | undefined {
  const { image } = manifest.colors[color];
  if (seen.runningImage === undefined) return `${color} runs no ECS service; apply the stack (deploy) first`;
  if (seen.runningImage !== image) return `${color} runs ${seen.runningImage}, not its manifest image ${image}; run deploy and wait for it to finish`;
  if (seen.rollout !== "completed") return `${color}'s ECS deployment is ${seen.rollout}${seen.rolloutReason ? ` (${seen.rolloutReason})` : ""}`;
  if (seen.targets.unhealthy > 0) return `${color} has ${seen.targets.unhealthy} unhealthy target(s): ${seen.targets.reasons.join("; ")}`;
  if (seen.targets.healthy === 0) return `${color} has no healthy targets`;
  if (seen.alarm === "ALARM") return `${color}'s alarm is in ALARM`;
  if (seen.alarm === "MISSING") return `${color}'s composite alarm does not exist, so the release cannot watch it; apply the stack with its alarms first`;
  return undefined;
}

/** Why a freshly deployed colour is not ready yet (still starting, or failed), or undefined when every target is healthy. */
export function readinessProblem(manifest: ReleaseManifest, color: Color, seen: ColorObservation, policy: ReleasePolicy): string | undefined {
  const expected = minimumTasks(manifest, color, policy);
  const { image } = manifest.colors[color];
  if (seen.runningImage !== image) return `waiting for ECS to start ${image} on ${color}${seen.runningImage ? ` (it still runs ${seen.runningImage})` : ""}`;
  const drift = runningTaskDrift(manifest, color, seen);
  if (drift.length > 0) return `waiting for ECS to start ${color}'s recorded task settings (it still runs ${drift.join(", ")})`;
  if (seen.rollout !== "completed") return `${color}'s ECS deployment is ${seen.rollout}${seen.rolloutReason ? ` (${seen.rolloutReason})` : ""}`;
  if (seen.runningTasks < expected) return `${color} runs ${seen.runningTasks} of ${expected} tasks`;
  const notHealthy = seen.targets.starting + seen.targets.unhealthy;
  if (seen.targets.healthy < expected || notHealthy > 0) {
    const why = seen.targets.reasons.length > 0 ? `: ${seen.targets.reasons.join("; ")}` : "";
    return `${color} has ${seen.targets.healthy} healthy target(s) of ${Math.max(expected, seen.targets.healthy + notHealthy)}${why}`;
  }
  return undefined;
}

/** A failed ECS deployment never becomes ready: the deploy stops at once instead of waiting for the timeout. */
export function deploymentFailed(manifest: ReleaseManifest, color: Color, seen: ColorObservation): string | undefined {
  if (seen.rollout !== "failed") return undefined;
  return `ECS could not start ${manifest.colors[color].image} on ${color}${seen.rolloutReason ? `: ${seen.rolloutReason}` : ""}`;
}

/** Why a colour taking traffic during a bake must be rolled back, or undefined while it is fine. */
export function bakeProblem(manifest: ReleaseManifest, color: Color, seen: ColorObservation): string | undefined {
  const alarm = resourceNames.unhealthyAlarm(resourceNames.service(namePrefix(manifest.environment), color));
  if (seen.alarm === "ALARM") return `the alarm ${alarm} is in ALARM`;
  if (seen.alarm === "MISSING") return `the alarm ${alarm} disappeared`;
  if (seen.targets.unhealthy > 0) return `${color} has ${seen.targets.unhealthy} unhealthy target(s): ${seen.targets.reasons.join("; ")}`;
  if (seen.targets.healthy === 0) return `${color} has no healthy targets`;
  return undefined;
}

/** The configured steps still ahead of the candidate (a promotion interrupted at 10% resumes at the next step). */
export function remainingSteps(manifest: ReleaseManifest, policy: ReleasePolicy): number[] {
  const current = manifest.colors[candidateColor(manifest)].weight;
  return policy.steps.filter((step) => step > current);
}

/**
 * Moves the candidate to `percent` of traffic, refusing when it cannot take traffic (invariant 3).
 * At 100% the candidate becomes stable; the old colour keeps its running task count as its
 * minimum until the final bake passes (finishPromotion), so a rollback lands on warm capacity.
 * `observed` undefined is a dry run that could not reach AWS: it only shows the manifest change,
 * so the readiness check is left out (the caller says so) and the old colour's floor is the minimum.
 */
export function planStep(
  manifest: ReleaseManifest,
  percent: number,
  observed: Record<Color, ColorObservation> | undefined,
  policy: ReleasePolicy,
): ReleaseManifest {
  const candidate = candidateColor(manifest);
  const current = manifest.colors[candidate].weight;
  if (!Number.isInteger(percent) || percent <= current || percent > 100) {
    throw new ReleaseError(`cannot move ${candidate} from ${current}% to ${percent}%: a promotion step must be a whole percentage above the current one, at most 100`);
  }
  const problem = observed && trafficProblem(manifest, candidate, observed[candidate]);
  if (problem) throw new ReleaseError(`refusing to move traffic to ${candidate}: ${problem}`);
  const old = manifest.stable;
  if (percent < 100) {
    return checked(manifest, { ...manifest, colors: withWeights(manifest, { [candidate]: percent, [old]: 100 - percent } as Record<Color, number>) });
  }
  const held = Math.min(policy.maxTasks, Math.max(policy.minTasks, observed?.[old].runningTasks ?? 0, manifest.colors[old].minTasks ?? 0));
  return checked(manifest, {
    ...manifest,
    stable: candidate,
    colors: {
      ...manifest.colors,
      [candidate]: { ...manifest.colors[candidate], weight: 100 },
      [old]: { ...manifest.colors[old], weight: 0, minTasks: held },
    } as ReleaseManifest["colors"],
  });
}

/** After the final bake: both colours drop their overrides, so the old one may scale down to the idle minimum. */
export function finishPromotion(manifest: ReleaseManifest): ReleaseManifest {
  if (manifest.colors[manifest.stable].weight !== 100) {
    throw new ReleaseError(`cannot finish the promotion: ${manifest.stable} has ${manifest.colors[manifest.stable].weight}%, not 100%`);
  }
  const drop = ({ minTasks: _override, ...rest }: ReleaseManifest["colors"][Color]) => rest;
  return checked(manifest, { ...manifest, colors: { blue: drop(manifest.colors.blue), green: drop(manifest.colors.green) } });
}

/**
 * All traffic to `to` (the stable colour unless a promotion rolls back its own final step) in one change.
 * Always allowed: it returns traffic to the last known good release, which held traffic all along.
 */
export function planRollback(manifest: ReleaseManifest, to: Color = manifest.stable): ReleaseManifest {
  return checked(manifest, {
    ...manifest,
    stable: to,
    colors: withWeights(manifest, { [to]: 100, [otherColor(to)]: 0 } as Record<Color, number>),
  });
}

/** True when all traffic already sits on the stable colour. */
export function isSettled(manifest: ReleaseManifest): boolean {
  return manifest.colors[manifest.stable].weight === 100;
}

function withWeights(manifest: ReleaseManifest, weights: Record<Color, number>): ReleaseManifest["colors"] {
  return {
    blue: { ...manifest.colors.blue, weight: weights.blue },
    green: { ...manifest.colors.green, weight: weights.green },
  };
}

/** Guards invariants 1 and 2 on every transition; a violation here is a bug in this file, not bad input. */
function checked(before: ReleaseManifest, after: ReleaseManifest): ReleaseManifest {
  const weights = COLORS.map((c) => after.colors[c].weight);
  if (weights.some((w) => !Number.isInteger(w) || w < 0 || w > 100) || weights[0] + weights[1] !== 100) {
    throw new Error(`release state machine produced weights ${weights.join("/")}`);
  }
  if (after.colors[after.stable].weight === 0) throw new Error(`release state machine left the stable colour ${after.stable} without traffic`);
  for (const color of COLORS) {
    const hadOrHasTraffic = before.colors[color].weight > 0 || after.colors[color].weight > 0;
    if (hadOrHasTraffic && before.colors[color].image !== after.colors[color].image) {
      throw new Error(`release state machine changed the image of ${color}, which has traffic`);
    }
    if (hadOrHasTraffic && !isDeepStrictEqual(before.colors[color].task, after.colors[color].task)) {
      throw new Error(`release state machine changed the task settings of ${color}, which has traffic`);
    }
  }
  return after;
}
