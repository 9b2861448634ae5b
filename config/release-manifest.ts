import { z } from "zod";

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
});

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
