import { AggregateConfigError } from "./config/load";
import { buildApp } from "./stacks/app";

try {
  buildApp().synth();
} catch (error) {
  // Bad config is the user's to fix: show the message, not a stack trace.
  if (!(error instanceof AggregateConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
