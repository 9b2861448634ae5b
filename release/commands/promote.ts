import { candidateColor, minimumTasks, type Color, type ReleaseManifest } from "../../config/release-manifest";
import { applyChange } from "../apply-change";
import { POLL_SECONDS, releasePolicy, type ReleaseContext } from "../context";
import { ReleaseError } from "../errors";
import { bakeProblem, finishPromotion, planStep, remainingSteps } from "../state-machine";
import { describeColor, observeBoth, unlessDryRunWithoutAws } from "./observe";
import { prepareRollback, returnTrafficTo } from "./rollback";

/** Seconds between progress lines while baking. */
const BAKE_REPORT_SECONDS = 60;

/**
 * Shifts traffic to the candidate in the configured steps. Each step writes and applies the
 * weights, then bakes while watching the candidate's composite alarm and target health; any
 * problem moves all traffic back to the previous colour at once and fails. After the last bake
 * the previous colour becomes idle and may scale down to its idle minimum.
 */
export async function promote(ctx: ReleaseContext): Promise<void> {
  const policy = releasePolicy(ctx.config);
  let manifest = ctx.store.read();
  const candidate = candidateColor(manifest);
  const previous = manifest.stable;
  const { version } = manifest.colors[candidate];
  if (manifest.colors[candidate].weight === 0 && manifest.colors[candidate].image === manifest.colors[previous].image) {
    throw new ReleaseError(`nothing to promote: ${candidate} runs the same image as ${previous}; deploy a new image first`);
  }
  const steps = remainingSteps(manifest, policy);
  ctx.out.step(`promote ${candidate} (${version}) in steps ${steps.map((s) => `${s}%`).join(", ")}, baking ${ctx.config.release.bakeSeconds} s each`);
  let observed = await unlessDryRunWithoutAws(ctx, "the candidate's readiness is not checked, and the old colour's floor is the minimum", () => observeBoth(ctx));
  // Found now, so that a failed bake moves the traffic back with one call.
  await prepareRollback(ctx);

  for (const [index, percent] of steps.entries()) {
    // A dry run shows every step from the first observation and plans only the first step.
    if (index > 0 && !ctx.dryRun) observed = await observeBoth(ctx);
    const next = planStep(manifest, percent, observed, policy);
    const summary = percent === 100 ? `${candidate} 100% (${version})` : `${candidate} ${percent}% (${version})`;
    manifest = await applyChange(ctx, manifest, next, summary, { plan: index === 0 });
    if (ctx.dryRun) continue;
    const problem = await bake(ctx, manifest, candidate);
    if (problem) {
      await rollBackAfter(ctx, manifest, previous, problem, percent);
    }
  }

  const idle = finishPromotion(manifest);
  await applyChange(ctx, manifest, idle, `${previous} idle, ${candidate} stable (${version})`, { plan: false });
  if (ctx.dryRun) return;
  try {
    ctx.out.step(await ctx.aws.setTaskFloor(previous, minimumTasks(idle, previous, policy)));
  } catch (error) {
    // The release is done; the idle colour merely keeps its tasks until autoscaling or the next apply lowers them.
    ctx.out.step(`warning: could not lower ${previous}'s minimum: ${error instanceof Error ? error.message : String(error)}`);
  }
  ctx.out.step(`promote: ${candidate} (${version}) has 100% of traffic and is stable; ${previous} is idle`);
}

/** Watches the colour for the bake time; returns the first problem seen, or undefined when it stayed healthy. */
async function bake(ctx: ReleaseContext, manifest: ReleaseManifest, color: Color): Promise<string | undefined> {
  const bakeMs = ctx.config.release.bakeSeconds * 1000;
  const started = ctx.clock.now().getTime();
  let reported = -Infinity;
  ctx.out.step(`baking ${color} at ${manifest.colors[color].weight}% for ${ctx.config.release.bakeSeconds} s`);
  for (;;) {
    let problem: string | undefined;
    let line = "";
    try {
      const seen = await ctx.aws.observe(color);
      problem = bakeProblem(manifest, color, seen);
      line = describeColor(color, seen);
    } catch (error) {
      // A colour the release cannot watch is not known to be healthy.
      problem = `could not watch ${color}: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (problem) return problem;
    const elapsed = ctx.clock.now().getTime() - started;
    if (elapsed >= bakeMs) {
      ctx.out.step(`baked: ${line}`);
      return undefined;
    }
    if (elapsed - reported >= BAKE_REPORT_SECONDS * 1000) {
      ctx.out.step(`baking ${Math.floor(elapsed / 1000)}/${ctx.config.release.bakeSeconds} s: ${line}`);
      reported = elapsed;
    }
    await ctx.clock.sleep(Math.min(POLL_SECONDS * 1000, bakeMs - elapsed));
  }
}

async function rollBackAfter(ctx: ReleaseContext, manifest: ReleaseManifest, previous: Color, problem: string, percent: number): Promise<never> {
  const candidate = candidateColor({ ...manifest, stable: previous });
  ctx.out.step(`PROBLEM at ${candidate} ${percent}%: ${problem}; rolling back to ${previous}`);
  try {
    await returnTrafficTo(ctx, manifest, previous);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ReleaseError(`promotion of ${candidate} failed at ${percent}% (${problem}) and the ROLLBACK FAILED: ${reason}; run rollback --env ${ctx.environment} now`);
  }
  throw new ReleaseError(
    `promotion of ${candidate} (${manifest.colors[candidate].version}) rolled back at ${percent}%: ${problem}; all traffic is on ${previous} (${manifest.colors[previous].version})`,
  );
}
