import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AnnotationMetadataEntryType, App } from "cdktf";
import { loadAllEnvironments, type Environment } from "../config/load";
import type { ReleaseManifest } from "../config/release-manifest";
import { BootstrapStack, bootstrapAccounts } from "./bootstrap-stack";
import { McpServerStack } from "./mcp-server-stack";
import { planOfflineIfAsked } from "./offline-plan";

/**
 * One stack per environment in config/environments, and one bootstrap stack per AWS account they
 * use. `releases` replaces environments' manifests (a dry run plans a manifest it has not written).
 * With MCP_DEPLOY_OFFLINE_PLAN=1 every stack plans with no AWS account (offline-plan.ts).
 */
export function buildApp(outdir?: string, releases: Record<string, ReleaseManifest> = {}, environments: Environment[] = loadAllEnvironments()): App {
  const app = new App({ outdir });
  for (const environment of environments) {
    const name = environment.config.name;
    new McpServerStack(app, name, { ...environment, release: releases[name] ?? environment.release });
  }
  for (const account of bootstrapAccounts(environments.map((e) => e.config))) {
    new BootstrapStack(app, account.stackId, account);
  }
  planOfflineIfAsked(app);
  return app;
}

/** The warnings the constructs left in a synthesized app's manifest, as "<stack>: <message>". */
export function synthWarnings(outdir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { annotations?: { level: string; message: string }[] }> };
  return Object.entries(manifest.stacks).flatMap(([stack, { annotations = [] }]) => annotations.filter((a) => a.level === AnnotationMetadataEntryType.WARN).map((a) => `${stack}: ${a.message}`));
}
