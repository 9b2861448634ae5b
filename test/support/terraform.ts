import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mirrorEnvironment, providerMirror } from "../../scripts/terraform-mirror";
import { OFFLINE_PROVIDER_SETTINGS } from "../../stacks/offline-plan";
import type { TerraformJson } from "./fixtures";
import { COMMAND_TIMEOUT_MS } from "./processes";

/**
 * The stack as Terraform can plan it with no AWS account: a local backend, fake credentials and
 * every provider call that needs an account skipped. The stack itself keeps its S3 backend.
 */
export function offlineConfiguration(stack: TerraformJson): TerraformJson {
  const copy = structuredClone(stack);
  copy.terraform.backend = { local: { path: "terraform.tfstate" } };
  copy.provider.aws = copy.provider.aws.map((provider) => {
    const { allowed_account_ids: _checkedOnlyWithARealAccount, ...rest } = provider;
    return { ...rest, ...OFFLINE_PROVIDER_SETTINGS };
  });
  return copy;
}

export interface TerraformRun {
  readonly code: number;
  readonly output: string;
}

/** A scratch working directory holding the offline configuration and a CLI config for the mirror. */
export class OfflineWorkdir {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-deploy-tf-"));
  private readonly env: NodeJS.ProcessEnv;

  constructor(stack: TerraformJson, mirror = providerMirror()) {
    fs.writeFileSync(path.join(this.dir, "main.tf.json"), JSON.stringify(offlineConfiguration(stack), null, 2));
    this.env = { ...process.env, ...mirrorEnvironment(this.dir, mirror), TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
  }

  run(...args: string[]): TerraformRun {
    const result = spawnSync("terraform", [...args, "-no-color"], { cwd: this.dir, env: this.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS });
    if (result.error) throw result.error;
    return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The real-Terraform checks every stack must pass: init against the provider mirror, an offline plan
 * (which validates first) that creates everything and fails on any error, and no sensitive value in
 * what it plans.
 */
export function describeRealTerraform(title: string, synthesize: () => TerraformJson): void {
  describe(title, () => {
    let workdir: OfflineWorkdir;

    beforeAll(() => {
      workdir = new OfflineWorkdir(synthesize());
      const init = workdir.run("init", "-input=false");
      if (init.code !== 0) throw new Error(`terraform init failed:\n${init.output}`);
    }, 120_000);

    afterAll(() => workdir?.remove());

    // plan validates the configuration first (the same checks as `terraform validate`) and fails on any error.
    it("validates and plans offline, creating everything and changing nothing else", () => {
      const plan = workdir.run("plan", "-input=false", "-lock=false", "-detailed-exitcode", `-out=${PLAN_FILE}`);
      // -detailed-exitcode: 2 means the plan succeeded and has changes.
      expect({ code: plan.code, errors: plan.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 2, errors: [] });
      expect(plan.output).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
    }, 180_000);

    // Every role that can read the state (pull-request plans included) could read a secret in it.
    it("puts no sensitive value in the state", () => {
      const show = workdir.run("show", "-json", PLAN_FILE);
      expect(show.code).toBe(0);
      const changes = (JSON.parse(show.output) as { resource_changes: { address: string; change: PlannedChange }[] }).resource_changes;
      expect(changes.flatMap((c) => sensitiveValues(c.change, c.address))).toEqual([]);
    }, 120_000);
  });
}

const PLAN_FILE = "offline.tfplan";

interface PlannedChange {
  readonly after: unknown;
  readonly after_unknown: unknown;
  readonly after_sensitive: unknown;
}

/**
 * Paths of a planned resource that will hold a sensitive value: marked sensitive by the provider
 * schema (`after_sensitive`, which marks an attribute whether set or not) and either set in the plan
 * or computed at apply time (`after_unknown`).
 */
function sensitiveValues(change: PlannedChange, path: string): string[] {
  const walk = (marks: unknown, after: unknown, unknown: unknown, at: string): string[] => {
    if (marks === true) return unknown === true || (after !== null && after !== undefined && !(Array.isArray(after) && after.length === 0)) ? [at] : [];
    if (!marks || typeof marks !== "object") return [];
    // Arrays are indexed by the same string keys Object.entries gives.
    const child = (value: unknown, key: string) => (value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined);
    return Object.entries(marks).flatMap(([k, m]) => walk(m, child(after, k), unknown === true ? true : child(unknown, k), Array.isArray(marks) ? `${at}[${k}]` : `${at}.${k}`));
  };
  return walk(change.after_sensitive, change.after, change.after_unknown, path);
}
