import { otherColor, type Color, type ReleaseManifest } from "../../config/release-manifest";
import { applyChange } from "../apply-change";
import type { ReleaseContext } from "../context";
import { isSettled, planRollback } from "../state-machine";
import { productionPortOf } from "./observe";

/** All traffic back to the stable colour (the last known good release) in one apply. */
export async function rollback(ctx: ReleaseContext): Promise<void> {
  const manifest = ctx.store.read();
  if (isSettled(manifest)) {
    ctx.out.step(`nothing to roll back: ${manifest.stable} (${manifest.colors[manifest.stable].version}) already has 100% of traffic`);
    return;
  }
  await prepareRollback(ctx);
  await returnTrafficTo(ctx, manifest, manifest.stable);
}

/** Finds the production listener and the target groups, so that returnTrafficTo's move is one call. */
export async function prepareRollback(ctx: ReleaseContext): Promise<void> {
  if (!ctx.dryRun) await ctx.aws.prepareTrafficMove(productionPortOf(ctx));
}

/**
 * Moves every request to `color`, warning (never refusing) when its targets look unwell: it is
 * where traffic came from. The listener moves first, with one direct call (prepareTrafficMove
 * found it before), so the bad version loses its traffic in seconds; then the manifest is written
 * and committed by an apply that reconciles Terraform, whose plan no longer changes the listener.
 */
export async function returnTrafficTo(ctx: ReleaseContext, manifest: ReleaseManifest, color: Color): Promise<ReleaseManifest> {
  const from = otherColor(color);
  const next = planRollback(manifest, color);
  ctx.out.step(`rollback: ${from} ${manifest.colors[from].weight}% -> 0%, ${color} -> 100% (${next.colors[color].version})`);
  if (!ctx.dryRun) ctx.out.step(await ctx.aws.moveTraffic({ blue: next.colors.blue.weight, green: next.colors.green.weight }));
  return applyChange(ctx, manifest, next, `rollback to ${color} 100% (${next.colors[color].version})`);
}
