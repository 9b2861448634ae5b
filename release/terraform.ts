import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { OperatorError } from "../config/errors";
import type { ReleaseManifest } from "../config/release-manifest";
import { LOCK_TIMEOUT_DEFAULT_SECONDS } from "../config/defaults";
import { loadAllEnvironments } from "../config/load";
import { buildApp } from "../stacks/app";

/** Applies one environment's stack. The release CLI talks to infrastructure only through this, so tests can replace it. */
export interface StackApplier {
  /**
   * Synthesizes and plans; resolves to true when the plan has changes. With `release`, plans that
   * manifest instead of the one on disk (a dry run shows the plan of a change it does not write).
   */
  plan(environment: string, release?: ReleaseManifest, options?: PlanOptions): Promise<boolean>;
  /** Synthesizes, plans and applies that plan. */
  apply(environment: string): Promise<void>;
}

export interface PlanOptions {
  /**
   * Read every resource back from AWS before planning. Pull requests plan without it: their role
   * may not read secret values, and refreshing the Redis AUTH token's secret version reads one.
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
  ) {}

  async plan(environment: string, release?: ReleaseManifest, options: PlanOptions = {}): Promise<boolean> {
    const { lockTimeoutSeconds } = this.prepare(environment, release);
    const refresh = options.refresh === false ? ["-refresh=false"] : [];
    const lock = lockArguments(options.lock ?? true, lockTimeoutSeconds);
    const code = this.terraform(environment, ["plan", "-input=false", "-detailed-exitcode", ...refresh, ...lock, "-out=plan.tfplan"], [0, 2]);
    return code === 2;
  }

  async apply(environment: string): Promise<void> {
    await this.plan(environment);
    // Apply exactly the plan just shown, never a fresh one computed after it.
    const { lockTimeoutSeconds } = this.releasePolicy(environment);
    this.terraform(environment, ["apply", "-input=false", ...lockArguments(true, lockTimeoutSeconds), "plan.tfplan"], [0]);
  }

  private prepare(environment: string, release?: ReleaseManifest): { lockTimeoutSeconds: number } {
    const environments = loadAllEnvironments();
    const app = buildApp(this.outdir, release ? { [environment]: release } : {}, environments);
    if (!app.node.tryFindChild(environment)) throw new TerraformError(`unknown environment "${environment}"; known: ${app.node.children.map((c) => c.node.id).join(", ")}`);
    app.synth();
    this.terraform(environment, ["init", "-input=false"], [0]);
    return this.releasePolicy(environment, environments);
  }

  /** The release settings of a stack's environment (a bootstrap stack has none: the default lock timeout). */
  private releasePolicy(stack: string, environments = loadAllEnvironments()): { lockTimeoutSeconds: number } {
    return environments.find((e) => e.config.name === stack)?.config.release ?? { lockTimeoutSeconds: LOCK_TIMEOUT_DEFAULT_SECONDS };
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
