import * as fs from "node:fs";
import * as path from "node:path";
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { OperatorError } from "./errors";
import { environmentSchema, type EnvironmentConfig } from "./schema";
import { releaseManifestSchema, type ReleaseManifest } from "./release-manifest";

/** The project's config/ folder: MCP_DEPLOY_CONFIG_DIR, or found above this file whether it runs from source or a bundle. */
export const CONFIG_DIR = process.env.MCP_DEPLOY_CONFIG_DIR ?? path.join(projectRoot(__dirname), "config");

function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "config", "environments"))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no config/environments folder above ${from}; set MCP_DEPLOY_CONFIG_DIR`);
  }
}

/** Bad configuration: one message listing every bad field by path, meant for a person, not a stack trace. */
export class ConfigError extends OperatorError {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface Environment {
  readonly config: EnvironmentConfig;
  readonly release: ReleaseManifest;
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((out, s) => (typeof s === "number" ? `${out}[${s}]` : out ? `${out}.${String(s)}` : String(s)), "") || "(root)";
}

/** The fields an object schema at `at` (under defaults and optionals) accepts. */
function fieldsAt(schema: z.ZodType, at: readonly PropertyKey[]): string[] {
  const unwrap = (node: z.ZodType | undefined): z.ZodType | undefined => {
    while (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional || node instanceof z.ZodPipe) {
      node = (node instanceof z.ZodPipe ? node.in : node.unwrap()) as z.ZodType;
    }
    return node;
  };
  let node = unwrap(schema);
  for (const segment of at) node = unwrap(node instanceof z.ZodObject ? (node.shape as Record<string, z.ZodType>)[String(segment)] : undefined);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** "did you mean" for a misspelt field: the closest known one, when it is close enough to be a typo. */
function suggestion(key: string, known: string[]): string {
  if (known.length === 0) return "check its spelling against the README's config reference";
  const best = closest(key, known);
  return distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean "${best}"?` : `expected one of ${known.join(", ")}`;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): string[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field; ${suggestion(key, fieldsAt(schema, issue.path))}`)
      : [`${formatPath(issue.path)}: ${issue.message}`],
  );
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(file, ["file not found"]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
}

/** Validates raw config; throws ConfigError naming every bad field. */
export function parseEnvironmentConfig(raw: unknown, file = "environment config"): EnvironmentConfig {
  const result = environmentSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues, environmentSchema));
  return result.data;
}

/** Validates a release manifest; throws ConfigError naming every bad field. */
export function parseReleaseManifest(raw: unknown, file = "release manifest"): ReleaseManifest {
  const result = releaseManifestSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues, releaseManifestSchema));
  return result.data;
}

export function environmentFile(name: string, dir = CONFIG_DIR): string {
  return path.join(dir, "environments", `${name}.json`);
}

export function releaseFile(name: string, dir = CONFIG_DIR): string {
  return path.join(dir, "releases", `${name}.json`);
}

export function listEnvironments(dir = CONFIG_DIR): string[] {
  return fs
    .readdirSync(path.join(dir, "environments"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.basename(f, ".json"))
    .sort();
}

export function loadReleaseManifest(name: string, dir = CONFIG_DIR): ReleaseManifest {
  const file = releaseFile(name, dir);
  const release = parseReleaseManifest(readJson(file), file);
  if (release.environment !== name) throw new ConfigError(file, [`environment: expected "${name}" to match the file name, got "${release.environment}"`]);
  return release;
}

/** Loads and validates one environment's config and release manifest. */
export function loadEnvironment(name: string, dir = CONFIG_DIR): Environment {
  const file = environmentFile(name, dir);
  if (!fs.existsSync(file)) throw new ConfigError(file, [`no environment "${name}"; the known ones are ${listEnvironments(dir).join(", ") || "none"} (a file each in ${path.join(dir, "environments")})`]);
  const config = parseEnvironmentConfig(readJson(file), file);
  if (config.name !== name) throw new ConfigError(file, [`name: expected "${name}" to match the file name, got "${config.name}"`]);
  return { config, release: loadReleaseManifest(name, dir) };
}

/** Loads every environment, collecting all errors before failing so one run reports them all. */
export function loadAllEnvironments(dir = CONFIG_DIR): Environment[] {
  const errors: ConfigError[] = [];
  const environments = listEnvironments(dir).flatMap((name) => {
    try {
      return [loadEnvironment(name, dir)];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
      return [];
    }
  });
  if (errors.length > 0) throw new AggregateConfigError(errors);
  return environments;
}

export class AggregateConfigError extends OperatorError {
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "AggregateConfigError";
  }
}

/** Writes a manifest so a reader sees the old file or the new one, never half of one. */
export function writeReleaseManifest(name: string, manifest: ReleaseManifest, dir = CONFIG_DIR): void {
  const file = releaseFile(name, dir);
  const valid = parseReleaseManifest(manifest, file);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(valid, null, 2)}\n`);
  fs.renameSync(temp, file);
}
