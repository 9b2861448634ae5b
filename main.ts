import * as path from "node:path";
import { reportOperatorError } from "./config/errors";
import { buildApp, synthWarnings } from "./stacks/app";

try {
  const app = buildApp();
  app.synth();
  const stacks = app.node.children.map((c) => c.node.id);
  // The cdktf CLI prints these from the manifest itself; a direct run says them too.
  for (const warning of synthWarnings(app.outdir)) console.error(`warning: ${warning}`);
  // stderr, so that whoever reads stdout (the cdktf CLI) sees only what it expects.
  console.error(`synthesized ${stacks.length} stacks into ${path.relative(process.cwd(), path.join(app.outdir, "stacks")) || "."}: ${stacks.join(", ")}`);
} catch (error) {
  // Bad config is the user's to fix: show the message, not a stack trace.
  process.exitCode = reportOperatorError(error);
}
