import { App } from "cdktf";
import { loadAllEnvironments } from "../config/load";
import { BootstrapStack, bootstrapAccounts } from "./bootstrap-stack";
import { McpServerStack } from "./mcp-server-stack";

/** One stack per environment in config/environments, and one bootstrap stack per AWS account they use. */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir });
  const environments = loadAllEnvironments();
  for (const environment of environments) {
    new McpServerStack(app, environment.config.name, environment);
  }
  for (const account of bootstrapAccounts(environments.map((e) => e.config))) {
    new BootstrapStack(app, account.stackId, account);
  }
  return app;
}
