import type { ReleaseManifest } from "../config/release-manifest";
import type { ReleaseContext } from "./context";
import { ReleaseError } from "./errors";
import { manifestDiff } from "./manifest-store";

export interface ChangeOptions {
  /** In a dry run, also show the Terraform plan of this change (a promotion plans only its first step). @default true */
  readonly plan?: boolean;
}

/**
 * One release step: apply the stack with the next manifest (held in memory), then write the
 * manifest, then (with --commit) commit it.
 *
 * The manifest on disk always matches what was last applied successfully: it is written, atomically,
 * only after a successful apply, and a failed apply leaves it as it was. A commit is made only after
 * that, so git history is the sequence of applied states. In a dry run it prints the change as a
 * diff and the plan, and writes and applies nothing.
 */
export async function applyChange(
  ctx: ReleaseContext,
  previous: ReleaseManifest,
  next: ReleaseManifest,
  summary: string,
  options: ChangeOptions = {},
): Promise<ReleaseManifest> {
  const diff = manifestDiff(previous, next);
  if (ctx.dryRun) {
    ctx.out.step(`dry run: ${summary}`);
    ctx.out.block(diff.length > 0 ? [`--- ${ctx.store.file}`, `+++ ${ctx.store.file} (proposed)`, ...diff] : ["(manifest unchanged)"]);
    if (options.plan ?? true) {
      const changes = await ctx.applier.plan(ctx.environment, next);
      ctx.out.step(`dry run: the plan ${changes ? "has changes" : "has no changes"}; nothing applied or written`);
    }
    return next;
  }
  ctx.out.step(`${summary}: applying`);
  try {
    await ctx.applier.apply(ctx.environment, next);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ReleaseError(
      `apply failed (${reason}); ${ctx.store.file} still holds the last applied manifest, but the apply may have changed part of the stack: run status, then re-run the command`,
    );
  }
  ctx.store.write(next);
  ctx.out.step(`${summary}: applied, ${ctx.store.file} written`);
  if (ctx.recorder) {
    await ctx.recorder.record(ctx.store.file, `release(${ctx.environment}): ${summary}`);
    ctx.out.step(`${summary}: committed ${ctx.store.file}`);
  }
  return next;
}
