import { COLORS } from "../../config/release-manifest";
import { taskSettings } from "../../stacks/task-settings";
import { applyChange } from "../apply-change";
import type { ReleaseContext } from "../context";
import { planBothColours, taskSettingsDiff } from "../state-machine";
import { waitUntilReady } from "./deploy";

/**
 * Shows how each colour's recorded task settings differ from what the config asks for now. With
 * `bothColours`, records the config's settings for both colours in one apply: ECS then replaces
 * the live colour's tasks in place (rolling, at least 100% healthy, its circuit breaker armed),
 * outside any traffic shift. For what cannot wait for a release, or what both colours share.
 */
export async function settings(ctx: ReleaseContext, options: { readonly bothColours: boolean }): Promise<void> {
  const manifest = ctx.store.read();
  const task = taskSettings(ctx.config);
  for (const color of COLORS) {
    const { weight } = manifest.colors[color];
    const diff = taskSettingsDiff(manifest.colors[color].task, task);
    const role = weight > 0 ? `${weight}% of traffic` : "idle";
    ctx.out.step(diff.length === 0 ? `${color} (${role}) records the config's task settings` : `${color} (${role}) records ${diff.length} task setting(s) other than the config's:`);
    if (diff.length > 0) ctx.out.block(diff);
  }
  if (!options.bothColours) {
    ctx.out.step("release deploy takes the config's settings to the idle colour only; --both-colours changes both now, replacing the live colour's tasks in place");
    return;
  }
  const next = planBothColours(manifest, task);
  await applyChange(ctx, manifest, next, "task settings for both colours");
  if (ctx.dryRun) return;
  for (const color of COLORS) {
    await waitUntilReady(ctx, next, color, `if ECS's circuit breaker trips, it returns ${color} to its previous task definition: run status, fix the config, and run this again`);
  }
  ctx.out.step(`settings: both colours run the config's task settings`);
}
