import { OperatorError } from "../config/errors";

/**
 * An expected failure of a release: unsafe input, an unhealthy colour, an alarm, a timeout.
 * The CLI prints its message as one line and exits non-zero; anything else is a bug and keeps its stack.
 */
export class ReleaseError extends OperatorError {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

/** An AWS API call failed (no credentials, no permission, throttling); names the call so the fix is obvious. */
export class AwsError extends ReleaseError {
  constructor(operation: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name === "Error" ? "" : `${cause.name}: `}${cause.message}` : String(cause);
    super(`AWS ${operation} failed: ${detail}`);
    this.name = "AwsError";
  }
}
