/**
 * A failure that is the operator's to fix (bad config, an unsafe release step, AWS or Terraform
 * refusing): every entry point prints its message as one line and exits 1. Anything else is a bug
 * and keeps its stack trace.
 */
export class OperatorError extends Error {}

/** What every entry point does with an error: one line for an OperatorError, a rethrow for a bug. */
export function reportOperatorError(error: unknown, write: (line: string) => void = (line) => console.error(line)): 1 {
  if (!(error instanceof OperatorError)) throw error;
  write(`error: ${error.message}`);
  return 1;
}
