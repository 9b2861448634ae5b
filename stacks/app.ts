import { App } from "cdktf";
import { loadAllEnvironments } from "../config/load";
import { McpServerStack } from "./mcp-server-stack";

/** One stack per environment in config/environments. */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir });
  for (const environment of loadAllEnvironments()) {
    new McpServerStack(app, environment.config.name, environment);
  }
  return app;
}
