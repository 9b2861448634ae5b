import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ReleaseError } from "../../release/errors";
import { GitRecorder } from "../../release/git";

describe("GitRecorder", () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
  const manifest = () => path.join(repo, "config", "releases", "staging.json");

  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "release-git-"));
    git("init", "--quiet", "--initial-branch=main");
    git("config", "user.email", "release@example.com");
    git("config", "user.name", "release");
    fs.mkdirSync(path.dirname(manifest()), { recursive: true });
    fs.writeFileSync(manifest(), '{"weight":0}\n');
    fs.writeFileSync(path.join(repo, "other.txt"), "a\n");
    git("add", ".");
    git("commit", "--quiet", "-m", "initial");
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  it("commits the manifest alone with the given message, leaving other changes uncommitted", async () => {
    fs.writeFileSync(manifest(), '{"weight":10}\n');
    fs.writeFileSync(path.join(repo, "other.txt"), "b\n");
    git("add", "other.txt");

    await new GitRecorder().record(manifest(), "release(staging): green 10% (1.4.0)");

    expect(git("log", "-1", "--format=%s")).toBe("release(staging): green 10% (1.4.0)");
    expect(git("show", "--name-only", "--format=", "HEAD")).toBe("config/releases/staging.json");
    expect(git("show", "HEAD:config/releases/staging.json")).toBe('{"weight":10}');
    expect(git("status", "--porcelain")).toBe("M  other.txt");
  });

  it("makes no commit when the manifest has not changed", async () => {
    await new GitRecorder().record(manifest(), "release(staging): nothing");
    expect(git("rev-list", "--count", "HEAD")).toBe("1");
  });

  it("fails with a ReleaseError telling the user to commit by hand when git cannot commit", async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "release-nogit-"));
    try {
      fs.writeFileSync(path.join(outside, "staging.json"), "{}\n");
      const failure = new GitRecorder().record(path.join(outside, "staging.json"), "release(staging): x");
      await expect(failure).rejects.toBeInstanceOf(ReleaseError);
      await expect(failure).rejects.toThrow(/^the change is applied but git status failed \(fatal: not a git repository.*\); commit the manifest by hand/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
