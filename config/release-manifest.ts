import { z } from "zod";
import { OperatorError } from "./errors";
import { SHARED_TASK_SETTINGS, taskSettingsSchema } from "./schema";

export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/** Tags that move between builds; a release must name an image that can never change under it. */
const MUTABLE_TAGS = new Set(["latest", "stable", "main", "master", "dev", "develop", "edge", "nightly", "prod", "production", "staging"]);

/** `repo@sha256:<64 hex>` or `repo:<tag>` with a tag that is not a known moving tag. */
export function imageProblem(image: string): string | undefined {
  if (/^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const match = /^[a-z0-9][a-z0-9._\-/:]*?:([\w][\w.-]{0,127})$/.exec(image);
  if (!match) return "expected an image reference pinned by digest (repo@sha256:...) or by an immutable tag (repo:1.2.3)";
  if (MUTABLE_TAGS.has(match[1].toLowerCase())) return `the tag "${match[1]}" moves between builds; pin the image by digest or by an immutable tag such as the commit SHA`;
  return undefined;
}

const imageRef = z.string().superRefine((image, ctx) => {
  const problem = imageProblem(image);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const colorRelease = z.strictObject({
  /** Image this colour runs. */
  image: imageRef,
  /** Version the image reports (APP_VERSION). */
  version: z.string().min(1, { message: "expected the version the image reports" }),
  /** Percentage of production traffic, 0-100. */
  weight: z.number().int({ message: "expected a whole percentage" }).min(0).max(100),
  /** Overrides the colour's minimum task count (a release raises the idle colour before shifting traffic). */
  minTasks: z.number().int().min(0).optional(),
  /** What shapes the colour's task definition (cpu, memory, variables, collector, ...). @default the deployment's shared settings (McpDeployment's props); the app always records them */
  task: taskSettingsSchema.optional(),
});

/** The command that changes task settings for both colours at once, named in the refusals that need it. */
export const bothColoursCommand = (environment = "<env>") => `npm run release -- settings --env ${environment} --both-colours`;

/** What is live in one environment: the versioned record the stack synthesizes from. */
export const releaseManifestSchema = z
  .strictObject({
    environment: z.string(),
    /** The colour that last held all traffic: the last known good release, and where a rollback returns. */
    stable: z.enum(COLORS),
    colors: z.strictObject({ blue: colorRelease, green: colorRelease }),
  })
  .superRefine((manifest, ctx) => {
    const total = manifest.colors.blue.weight + manifest.colors.green.weight;
    if (total !== 100) ctx.addIssue({ code: "custom", path: ["colors"], message: `expected weights summing to 100, got ${total}` });
    const { blue, green } = manifest.colors;
    if ((blue.task === undefined) !== (green.task === undefined)) {
      ctx.addIssue({ code: "custom", path: ["colors", blue.task ? "green" : "blue", "task"], message: "expected task settings for both colours or for neither" });
    } else if (blue.task && green.task) {
      for (const key of SHARED_TASK_SETTINGS) {
        if (blue.task[key] !== green.task[key]) {
          ctx.addIssue({
            code: "custom",
            path: ["colors", candidateColor(manifest), "task", key],
            message: `${JSON.stringify(manifest.colors[candidateColor(manifest)].task![key])} differs from ${manifest.stable}'s ${JSON.stringify(manifest.colors[manifest.stable].task![key])}; both colours share ${key}, so change it for both at once: ${bothColoursCommand()}`,
          });
        }
      }
    }
    if (manifest.colors[manifest.stable].weight === 0) {
      ctx.addIssue({ code: "custom", path: ["stable"], message: `the stable colour ${manifest.stable} has no traffic; stable names the colour a rollback returns to` });
    }
  });

export type ReleaseManifest = z.output<typeof releaseManifestSchema>;

/** The colour a new version goes to and the test listener reaches: the one that is not stable. */
export function candidateColor(manifest: ReleaseManifest): Color {
  return otherColor(manifest.stable);
}

/** The task count the stack gives a colour: its override, else the minimum for a colour with or without traffic. */
export function minimumTasks(manifest: ReleaseManifest, color: Color, policy: { readonly minTasks: number; readonly idleMinTasks: number }): number {
  const release = manifest.colors[color];
  return release.minTasks ?? (release.weight > 0 ? policy.minTasks : policy.idleMinTasks);
}

/** Refuses a manifest without task settings, where each colour's task definition must come from them alone (this app's stacks). */
export function requireTaskSettings(manifest: ReleaseManifest): void {
  const missing = COLORS.filter((color) => !manifest.colors[color].task);
  if (missing.length === 0) return;
  throw new OperatorError(
    `config/releases/${manifest.environment}.json: ${missing.map((c) => `colors.${c}.task`).join(" and ")} missing: each colour's task definition is built from the settings its manifest records. ` +
      `Record the config's current settings for both colours (what an apply deploys today) with: ${bothColoursCommand(manifest.environment)}`,
  );
}
