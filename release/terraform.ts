import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { OperatorError } from "../config/errors";
import type { ReleaseManifest } from "../config/release-manifest";
import { CONFIG_DIR, listEnvironments, loadEnvironment } from "../config/load";
import { buildApp } from "../stacks/app";

/** Applies one environment's stack. The release CLI talks to infrastructure only through this, so tests can replace it. */
export interface StackApplier {
  /**
   * Synthesizes and plans; resolves to true when the plan has changes. With `release`, plans that
   * manifest instead of the one on disk (a dry run shows the plan of a change it does not write).
   */
  plan(environment: string, release?: ReleaseManifest, options?: PlanOptions): Promise<boolean>;
  /** Synthesizes (with `release` instead of the manifest on disk, when given), plans and applies that plan. */
  apply(environment: string, release?: ReleaseManifest): Promise<void>;
}

export interface PlanOptions {
  /**
   * Read every resource back from AWS before planning. Pull requests plan without it: their role
   * may not read secret values, and refreshing any secret version reads one.
   * @default true
   */
  readonly refresh?: boolean;
  /**
   * Take the state lock, waiting up to the environment's `release.lockTimeoutSeconds` for another
   * run to release it. Pull requests plan with false (-lock=false): their role may not write the
   * lock, and a release must never wait on a pull request. @default true
   */
  readonly lock?: boolean;
}

/** Terraform's lock arguments for a call: none taken, or wait this long for it. */
export function lockArguments(lock: boolean, timeoutSeconds: number): string[] {
  return lock ? [`-lock-timeout=${timeoutSeconds}s`] : ["-lock=false"];
}

export class TerraformError extends OperatorError {}

/**
 * What `cdktf diff|deploy <stack>` does, in-process: the release CLI plans a manifest it holds in
 * memory (a dry run, or the next step's weights), which the cdktf CLI, running the app as a child
 * process from the files on disk, cannot. Synthesizes, then runs Terraform in the stack's folder.
 */
export class TerraformStackApplier implements StackApplier {
  constructor(
    private readonly outdir = path.resolve("cdktf.out"),
    private readonly log: (line: string) => void = (line) => console.error(line),
    /** The config folder the environment comes from (the release CLI's, which tests replace). */
    private readonly configDir = CONFIG_DIR,
  ) {}

  async plan(environment: string, release?: ReleaseManifest, options: PlanOptions = {}): Promise<boolean> {
    return this.savePlan(environment, release, options).changes;
  }

  async apply(environment: string, release?: ReleaseManifest): Promise<void> {
    const { lockTimeoutSeconds } = this.savePlan(environment, release, {});
    // Apply exactly the plan just shown, never a fresh one computed after it.
    this.terraform(environment, ["apply", "-input=false", ...lockArguments(true, lockTimeoutSeconds), "plan.tfplan"], [0]);
  }

  /** Synthesizes, initialises and saves the plan; whether it has changes, and the environment's lock timeout. */
  private savePlan(environment: string, release: ReleaseManifest | undefined, options: PlanOptions): { changes: boolean; lockTimeoutSeconds: number } {
    const { lockTimeoutSeconds } = this.prepare(environment, release);
    const refresh = options.refresh === false ? ["-refresh=false"] : [];
    const lock = lockArguments(options.lock ?? true, lockTimeoutSeconds);
    const code = this.terraform(environment, ["plan", "-input=false", "-detailed-exitcode", ...refresh, ...lock, "-out=plan.tfplan"], [0, 2]);
    return { changes: code === 2, lockTimeoutSeconds };
  }

  /**
   * Synthesizes this one environment (and its account's bootstrap stack) from the config folder:
   * another environment's config is never read, so a broken one cannot block a release or a rollback.
   */
  private prepare(environment: string, release?: ReleaseManifest): { lockTimeoutSeconds: number } {
    const loaded = this.load(environment);
    const app = buildApp(this.outdir, release ? { [environment]: release } : {}, [loaded]);
    app.synth();
    this.terraform(environment, ["init", "-input=false"], [0]);
    return { lockTimeoutSeconds: loaded.config.release.lockTimeoutSeconds };
  }

  private load(environment: string) {
    const known = listEnvironments(this.configDir);
    if (!known.includes(environment)) throw new TerraformError(`unknown environment "${environment}"; known: ${known.join(", ")}`);
    return loadEnvironment(environment, this.configDir);
  }

  private terraform(environment: string, args: string[], okCodes: number[]): number {
    const cwd = path.join(this.outdir, "stacks", environment);
    this.log(`$ terraform ${args.join(" ")}   (in ${path.relative(process.cwd(), cwd)})`);
    const result = spawnSync("terraform", args, { cwd, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, TF_IN_AUTOMATION: "1" } });
    if (result.error) throw new TerraformError(`could not run terraform: ${result.error.message}`);
    const code = result.status ?? 1;
    if (!okCodes.includes(code)) throw new TerraformError(`terraform ${args[0]} failed for ${environment} (exit ${code})`);
    return code;
  }
}
