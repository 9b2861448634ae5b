import * as fs from "node:fs";
import { Testing } from "cdktf";
import { environmentFile, loadEnvironment, parseEnvironmentConfig } from "../../config/load";
import type { EnvironmentConfig, EnvironmentConfigInput } from "../../config/schema";
import { McpServerStack } from "../../stacks/mcp-server-stack";

/** A fresh copy of an environment's JSON as written in the repository. */
export function rawConfig(name: "staging" | "production"): EnvironmentConfigInput & Record<string, unknown> {
  return JSON.parse(fs.readFileSync(environmentFile(name), "utf8"));
}

/** Sets `value` at a dotted path ("network.availabilityZones.0") of a copy of `object`. */
export function withValue<T extends object>(object: T, dottedPath: string, value: unknown): T {
  const copy = structuredClone(object) as Record<string, unknown>;
  const keys = dottedPath.split(".");
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[keys[keys.length - 1]];
  else node[keys[keys.length - 1]] = value;
  return copy as T;
}

export function validConfig(name: "staging" | "production"): EnvironmentConfig {
  return parseEnvironmentConfig(rawConfig(name));
}

/** The synthesized Terraform JSON of one environment, parsed. */
export function synthStack(name: "staging" | "production"): TerraformJson {
  return JSON.parse(synthStackText(name));
}

export function synthStackText(name: "staging" | "production", environment = loadEnvironment(name)): string {
  const app = Testing.app();
  const stack = new McpServerStack(app, name, environment);
  return Testing.synth(stack);
}

export interface TerraformJson {
  terraform: { backend: Record<string, Record<string, unknown>> };
  provider: { aws: Record<string, unknown>[] };
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
}

/** Every resource of a type, by logical id. */
export function resourcesOf(json: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}
