import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ReleaseError } from "./errors";

/** Records an applied manifest change in version control, so git always matches what is live. */
export interface ReleaseRecorder {
  /** Commits `file` with `message`; does nothing when the file has no change to commit. */
  record(file: string, message: string): Promise<void>;
}

/** Commits only the manifest file (never whatever else is staged) in the repository that holds it. */
export class GitRecorder implements ReleaseRecorder {
  async record(file: string, message: string): Promise<void> {
    const cwd = path.dirname(file);
    const name = path.basename(file);
    const git = (...args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8" });
    const changed = git("status", "--porcelain", "--", name);
    if (changed.error || changed.status !== 0) throw this.failure("git status", changed.error?.message ?? changed.stderr);
    if (changed.stdout.trim() === "") return;
    for (const args of [["add", "--", name], ["commit", "--quiet", "-m", message, "--", name]]) {
      const result = git(...args);
      if (result.error || result.status !== 0) throw this.failure(`git ${args[0]}`, result.error?.message ?? result.stderr);
    }
  }

  private failure(what: string, detail: string): ReleaseError {
    return new ReleaseError(`the change is applied but ${what} failed (${detail.trim().split("\n")[0]}); commit the manifest by hand so git matches what is live`);
  }
}
