import type { Clock } from "./clock";

/** Progress output: one timestamped line per step, so a CI log reads as a timeline. */
export class Reporter {
  constructor(
    private readonly clock: Clock,
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** A timestamped progress line. */
  step(message: string): void {
    this.write(`${this.clock.now().toISOString().slice(11, 19)}Z ${message}`);
  }

  /** Untimestamped lines: tables, diffs, plans. */
  block(lines: readonly string[]): void {
    for (const line of lines) this.write(line);
  }
}
