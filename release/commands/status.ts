import { candidateColor, COLORS } from "../../config/release-manifest";
import type { ReleaseContext } from "../context";
import { AwsError } from "../errors";
import { observeBoth, productionPortOf } from "./observe";
import { runningTaskDrift } from "../state-machine";

/** Rows as aligned columns. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
}

/** The manifest next to what is live: listener weights, targets and tasks per colour, alarm states. */
export async function status(ctx: ReleaseContext): Promise<void> {
  const manifest = ctx.store.read();
  const { loadBalancer } = ctx.config;
  const candidate = candidateColor(manifest);
  let observed: Awaited<ReturnType<typeof observeBoth>>;
  let listeners: Awaited<ReturnType<typeof ctx.aws.listeners>>;
  try {
    [observed, listeners] = await Promise.all([observeBoth(ctx), ctx.aws.listeners(productionPortOf(ctx), loadBalancer.testListenerPort)]);
  } catch (error) {
    // The manifest needs no AWS: show it, then why the live side is missing.
    if (!(error instanceof AwsError)) throw error;
    ctx.out.step(`${ctx.environment}: manifest ${ctx.store.file}, stable ${manifest.stable}, candidate ${candidate} (live state unavailable)`);
    ctx.out.block(table([["colour", "role", "version", "weight", "image (manifest)"], ...COLORS.map((c) => [c, c === manifest.stable ? "stable" : "candidate", manifest.colors[c].version, `${manifest.colors[c].weight}%`, manifest.colors[c].image])]));
    throw error;
  }
  const rows = [
    ["colour", "role", "version", "weight", "live", "tasks", "targets", "alarm", "image (manifest)"],
    ...COLORS.map((color) => {
      const release = manifest.colors[color];
      const seen = observed[color];
      const t = seen.targets;
      const role = color === manifest.stable ? "stable" : "candidate";
      const image = seen.runningImage && seen.runningImage !== release.image ? `${release.image} (running ${seen.runningImage})` : release.image;
      return [
        color,
        listeners.test === color ? `${role}, test` : role,
        release.version,
        `${release.weight}%`,
        listeners.production ? `${listeners.production[color]}%` : "?",
        `${seen.runningTasks}/${seen.desiredTasks}${release.minTasks !== undefined ? ` (min ${release.minTasks})` : ""}`,
        `${t.healthy}/${t.healthy + t.starting + t.unhealthy} healthy${t.draining ? `, ${t.draining} draining` : ""}`,
        seen.alarm,
        image,
      ];
    }),
  ];
  ctx.out.step(`${ctx.environment}: manifest ${ctx.store.file}, stable ${manifest.stable}, candidate ${candidate}`);
  ctx.out.block(table(rows));

  const drift = [
    ...COLORS.filter((c) => listeners.production && listeners.production[c] !== manifest.colors[c].weight).map(
      (c) => `${c} takes ${listeners.production![c]}% live but ${manifest.colors[c].weight}% in the manifest`,
    ),
    ...(listeners.test !== candidate ? [`the test listener reaches ${listeners.test ?? "no single colour"}, not the candidate ${candidate}`] : []),
    ...COLORS.filter((c) => observed[c].runningImage && observed[c].runningImage !== manifest.colors[c].image).map(
      (c) => `${c} runs ${observed[c].runningImage}, not ${manifest.colors[c].image}`,
    ),
    ...COLORS.flatMap((c) => {
      const differs = runningTaskDrift(manifest, c, observed[c]);
      return differs.length > 0 ? [`${c}'s running task definition has ${differs.join(", ")} (its recorded task settings)`] : [];
    }),
  ];
  for (const line of drift) ctx.out.step(`drift: ${line}; apply the manifest (or run the interrupted release command again)`);
  // ECS's circuit breaker rolled the deployment back: Terraform's state still holds the failed
  // revision, so applying the manifest would deploy it again.
  const rolledBack = COLORS.filter((c) => observed[c].rollout === "failed");
  for (const c of rolledBack) {
    const reason = observed[c].rolloutReason ? ` (${observed[c].rolloutReason})` : "";
    ctx.out.step(`drift: ECS rolled back ${c}'s last deployment${reason}; applying the manifest would deploy that revision again: fix it, or deploy another image to ${c}`);
  }
  if (drift.length === 0 && rolledBack.length === 0) ctx.out.step("live matches the manifest");

  if (ctx.dryRun) {
    ctx.out.block(["(status changes no manifest)"]);
    const changes = await ctx.applier.plan(ctx.environment);
    ctx.out.step(`dry run: the plan of the manifest on disk ${changes ? "has changes (live differs from git)" : "has no changes"}`);
  }
}
