import { candidateColor, minimumTasks, type Color, type ReleaseManifest } from "../../config/release-manifest";
import { applyChange } from "../apply-change";
import { POLL_SECONDS, releasePolicy, type ReleaseContext } from "../context";
import { ReleaseError } from "../errors";
import { taskSettings } from "../../stacks/task-settings";
import { defaultVersion, deploymentFailed, planDeploy, readinessProblem, taskSettingsDiff } from "../state-machine";
import { verify } from "./verify";
import { describeColor, unlessDryRunWithoutAws } from "./observe";

export interface DeployOptions {
  /** Image reference, pinned by digest or immutable tag. */
  readonly image: string;
  /** Version the image reports. @default the image's tag, else the first 12 hex digits of its digest */
  readonly version?: string;
}

/**
 * Puts the image on the candidate (0%) colour with the live colour's capacity, applies, waits until
 * every candidate target is healthy, then verifies it through the test listener. Production traffic
 * never reaches the candidate here.
 */
export async function deploy(ctx: ReleaseContext, options: DeployOptions): Promise<void> {
  const policy = releasePolicy(ctx.config);
  const manifest = ctx.store.read();
  const candidate = candidateColor(manifest);
  const version = options.version ?? defaultVersion(options.image);
  const live = await unlessDryRunWithoutAws(ctx, `${manifest.stable}'s running tasks are unknown, so the candidate's floor is the minimum`, () => ctx.aws.observe(manifest.stable));
  const task = taskSettings(ctx.config);
  const next = planDeploy(manifest, options.image, version, task, live ?? { runningTasks: 0 }, policy);
  const tasks = minimumTasks(next, candidate, policy);
  ctx.out.step(`deploy ${version} to ${candidate} (0% of traffic, ${tasks} tasks to match ${manifest.stable}'s ${live ? live.runningTasks : "unknown number of"} running)`);
  const changed = taskSettingsDiff(manifest.colors[manifest.stable].task, task);
  ctx.out.step(changed.length > 0 ? `${candidate} takes the config's task settings, which differ from ${manifest.stable}'s (unchanged):` : `${candidate} takes the config's task settings, the same as ${manifest.stable}'s`);
  if (changed.length > 0) ctx.out.block(changed);
  if (!ctx.dryRun) {
    // Before the apply: the new image, and the stable one (the rollback target, which a release
    // before this tagging may have left untagged), are kept by the lifecycle policy from now on.
    for (const image of new Set([manifest.colors[manifest.stable].image, options.image])) ctx.out.step(await ctx.aws.protectImage(image));
  }
  await applyChange(ctx, manifest, next, `deploy ${version} to ${candidate} (0%)`);
  if (ctx.dryRun) {
    ctx.out.step(`dry run: would raise ${candidate} to ${tasks} tasks, wait up to ${ctx.config.release.healthyTimeoutSeconds} s for its targets, then verify`);
    return;
  }
  ctx.out.step(await ctx.aws.setTaskFloor(candidate, tasks));
  await waitUntilReady(ctx, next, candidate, `production traffic is unaffected (${manifest.stable} has 100%): fix the image or the settings and deploy again`);
  await verify(ctx);
  ctx.out.step(`deploy: ${candidate} runs ${version} and passed verify; run promote to shift traffic`);
}

/** Waits until the colour runs its manifest's task on every target, healthy; `afterFailure` ends the error: what a failure leaves as it was, and what to do. */
export async function waitUntilReady(ctx: ReleaseContext, manifest: ReleaseManifest, color: Color, afterFailure: string): Promise<void> {
  const policy = releasePolicy(ctx.config);
  const timeoutMs = ctx.config.release.healthyTimeoutSeconds * 1000;
  const started = ctx.clock.now().getTime();
  ctx.out.step(`waiting up to ${ctx.config.release.healthyTimeoutSeconds} s for every ${color} target to be healthy`);
  for (;;) {
    const seen = await ctx.aws.observe(color);
    const failed = deploymentFailed(manifest, color, seen);
    if (failed) throw new ReleaseError(`${failed}; ${afterFailure}`);
    const waiting = readinessProblem(manifest, color, seen, policy);
    if (!waiting) {
      ctx.out.step(`ready: ${describeColor(color, seen)}`);
      return;
    }
    const elapsed = ctx.clock.now().getTime() - started;
    if (elapsed >= timeoutMs) {
      throw new ReleaseError(
        `${color} was not ready after ${ctx.config.release.healthyTimeoutSeconds} s: ${waiting}; ${afterFailure}`,
      );
    }
    ctx.out.step(`waiting: ${waiting}`);
    await ctx.clock.sleep(Math.min(POLL_SECONDS * 1000, timeoutMs - elapsed));
  }
}
