import type { EnvironmentConfig } from "../config/schema";
import type { ReleaseAws } from "./aws";
import type { Clock } from "./clock";
import type { ReleaseRecorder } from "./git";
import type { ManifestStore } from "./manifest-store";
import type { Reporter } from "./report";
import type { ReleasePolicy } from "./state-machine";
import type { StackApplier } from "./terraform";
import type { VerifyOptions } from "./verify";

/** Everything a release command works with; the CLI builds the real parts, tests pass fakes for what needs AWS. */
export interface ReleaseContext {
  readonly environment: string;
  readonly config: EnvironmentConfig;
  readonly store: ManifestStore;
  readonly aws: ReleaseAws;
  readonly applier: StackApplier;
  readonly clock: Clock;
  readonly out: Reporter;
  /** Print the change and the plan; apply and write nothing. */
  readonly dryRun: boolean;
  /** Set with --commit: each applied manifest change becomes a commit. */
  readonly recorder?: ReleaseRecorder;
  /** The test listener's MCP URL when given (--url); otherwise derived from the load balancer. */
  readonly testUrl?: string;
  readonly verifyOptions?: VerifyOptions;
  /** Set with --from-here: verify from this machine rather than from a task inside the VPC. */
  readonly verifyFromHere?: boolean;
}

/** Seconds between polls of AWS while waiting or baking. */
export const POLL_SECONDS = 15;

export function releasePolicy(config: EnvironmentConfig): ReleasePolicy {
  return {
    minTasks: config.service.minTasks,
    maxTasks: config.service.maxTasks,
    idleMinTasks: config.service.idleMinTasks,
    steps: config.release.steps,
  };
}

/** The test listener's MCP endpoint: --url, else http(s)://<loadBalancer.hostName or the ALB DNS name>:<testListenerPort>/mcp. */
export async function testListenerUrl(ctx: ReleaseContext): Promise<string> {
  if (ctx.testUrl) return ctx.testUrl;
  const scheme = ctx.config.loadBalancer.certificateArn ? "https" : "http";
  const host = ctx.config.loadBalancer.hostName ?? (await ctx.aws.loadBalancerDns());
  return `${scheme}://${host}:${ctx.config.loadBalancer.testListenerPort}/mcp`;
}
