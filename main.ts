import { App } from "cdktf";
import { AggregateConfigError, loadAllEnvironments } from "./config/load";
import { McpServerStack } from "./stacks/mcp-server-stack";

/** Builds one stack per environment in config/environments. */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir, skipValidation: false });
  for (const environment of loadAllEnvironments()) {
    new McpServerStack(app, environment.config.name, environment);
  }
  return app;
}

if (require.main === module) {
  try {
    buildApp().synth();
  } catch (error) {
    // Bad config is the user's to fix: show the message, not a stack trace.
    if (!(error instanceof AggregateConfigError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}
