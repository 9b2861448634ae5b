import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONFIG_DIR, loadReleaseManifest } from "../../config/load";
import { TerraformError, TerraformStackApplier } from "../../release/terraform";

/*
 * The applier synthesizes for real; Terraform is replaced by a script on the PATH that records its
 * arguments, because the environment stacks' S3 backend cannot initialise without AWS.
 */
describe("TerraformStackApplier", () => {
  let dir: string;
  let calls: string;
  const originalPath = process.env.PATH;

  function fakeTerraform(planExitCode: number, failOn?: string): void {
    fs.writeFileSync(
      path.join(dir, "bin", "terraform"),
      `#!/bin/sh\necho "$(basename "$PWD") $*" >> ${JSON.stringify(calls)}\n${failOn ? `[ "$1" = "${failOn}" ] && exit 1\n` : ""}[ "$1" = "plan" ] && exit ${planExitCode}\nexit 0\n`,
      { mode: 0o755 },
    );
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "applier-"));
    fs.mkdirSync(path.join(dir, "bin"));
    calls = path.join(dir, "calls.txt");
    process.env.PATH = `${path.join(dir, "bin")}${path.delimiter}${originalPath}`;
  });

  afterEach(() => {
    process.env.PATH = originalPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const applier = () => new TerraformStackApplier(path.join(dir, "out"), () => undefined);
  const recorded = () => fs.readFileSync(calls, "utf8").trim().split("\n");
  const weightsIn = (environment: string) => {
    const stack = JSON.parse(fs.readFileSync(path.join(dir, "out", "stacks", environment, "cdk.tf.json"), "utf8"));
    const listeners = Object.values(stack.resource.aws_lb_listener) as { port: number; default_action: { forward?: { target_group: { weight: number }[] } }[] }[];
    return listeners.find((l) => l.port === 443)!.default_action[0].forward!.target_group.map((t) => t.weight);
  };

  it("plans the environment's stack in its own folder, saving the plan it reports", async () => {
    fakeTerraform(2);
    await expect(applier().plan("production")).resolves.toBe(true);
    // A release waits for a lock another run holds, up to release.lockTimeoutSeconds (default 300).
    expect(recorded()).toEqual(["production init -input=false", "production plan -input=false -detailed-exitcode -lock-timeout=300s -out=plan.tfplan"]);
    expect(weightsIn("production")).toEqual([100, 0]);
  });

  it("plans a manifest it was given instead of the one on disk, for dry runs", async () => {
    fakeTerraform(0);
    const onDisk = loadReleaseManifest("production");
    const proposed = { ...onDisk, colors: { blue: { ...onDisk.colors.blue, weight: 90 }, green: { ...onDisk.colors.green, weight: 10 } } };
    await expect(applier().plan("production", proposed)).resolves.toBe(false);
    expect(weightsIn("production")).toEqual([90, 10]);
    expect(loadReleaseManifest("production")).toEqual(onDisk);
  });

  it("applies exactly the plan it saved", async () => {
    fakeTerraform(2);
    await applier().apply("staging");
    expect(recorded().slice(-1)).toEqual(["staging apply -input=false -lock-timeout=300s plan.tfplan"]);
  });

  it("plans a pull request without the lock or a refresh, so it never holds what a release waits for", async () => {
    fakeTerraform(0);
    await applier().plan("staging", undefined, { refresh: false, lock: false });
    expect(recorded().slice(-1)).toEqual(["staging plan -input=false -detailed-exitcode -refresh=false -lock=false -out=plan.tfplan"]);
  });

  it("applies a manifest held in memory, and reads no other environment's config", async () => {
    fakeTerraform(2);
    // A copy of the config folder in which production's config is broken.
    const configDir = path.join(dir, "config");
    fs.cpSync(CONFIG_DIR, configDir, { recursive: true });
    fs.writeFileSync(path.join(configDir, "environments", "production.json"), "{ not json");
    const onDisk = loadReleaseManifest("staging", configDir);
    const next = { ...onDisk, colors: { blue: { ...onDisk.colors.blue, weight: 90 }, green: { ...onDisk.colors.green, weight: 10 } } };
    await new TerraformStackApplier(path.join(dir, "out"), () => undefined, configDir).apply("staging", next);
    expect(recorded().slice(-1)).toEqual(["staging apply -input=false -lock-timeout=300s plan.tfplan"]);
    expect(fs.readdirSync(path.join(dir, "out", "stacks")).sort()).toEqual(["bootstrap-111111111111", "staging"]);
    const stack = JSON.parse(fs.readFileSync(path.join(dir, "out", "stacks", "staging", "cdk.tf.json"), "utf8"));
    const production = Object.values(stack.resource.aws_lb_listener as Record<string, { port: number; default_action: { forward?: { target_group: { weight: number }[] } }[] }>).find((l) => l.default_action[0].forward && l.port !== 8443)!;
    expect(production.default_action[0].forward!.target_group.map((t) => t.weight)).toEqual([90, 10]);
    expect(loadReleaseManifest("staging", configDir)).toEqual(onDisk);
  });

  it("stops with a clear error when Terraform fails or the environment is unknown", async () => {
    fakeTerraform(2, "init");
    await expect(applier().plan("staging")).rejects.toThrow(new TerraformError("terraform init failed for staging (exit 1)"));
    await expect(applier().plan("qa")).rejects.toThrow(/unknown environment "qa"; known: .*production.*staging/);
  });
});
