import { IMAGE_VERIFY_COMMAND } from "../../config/defaults";
import { arnOf, namePrefix, resourceNames } from "../../config/names";
import { candidateColor, type Color } from "../../config/release-manifest";
import type { EnvironmentConfig } from "../../config/schema";
import type { VerifyRun } from "../aws";
import { testListenerUrl, type ReleaseContext } from "../context";
import { ReleaseError } from "../errors";
import { verifyDeployment } from "../verify";

/** Seconds between looks at the verify task. */
const VERIFY_POLL_SECONDS = 5;

/**
 * The MCP check of the candidate through the test listener. By default from inside the VPC: a
 * one-off task from the candidate's own task definition, whose traffic reaches the listener from
 * the NAT gateways the listener admits. `fromHere` runs the same check from this machine instead.
 */
export async function verify(ctx: ReleaseContext): Promise<void> {
  const manifest = ctx.store.read();
  const color = candidateColor(manifest);
  const { version } = manifest.colors[color];
  const url = await testListenerUrl(ctx);
  if (ctx.dryRun) ctx.out.step("dry run: verify changes nothing, so it runs as usual");
  if (ctx.verifyFromHere) await verifyFromHere(ctx, url, color, version);
  else await verifyInVpc(ctx, url, color, version);
}

async function verifyFromHere(ctx: ReleaseContext, url: string, color: Color, version: string): Promise<void> {
  ctx.out.step(`verify from here: ${url} (expecting ${color} ${version})`);
  const result = await verifyDeployment(url, { version, color }, ctx.verifyOptions).catch((error: unknown) => {
    // The load balancer's own DNS name is not on the certificate; only a name the certificate covers verifies over HTTPS.
    if (error instanceof ReleaseError && !ctx.testUrl && url.startsWith("https:")) {
      throw new ReleaseError(`${error.message}; with HTTPS, pass --url https://<a host name on the certificate>:${ctx.config.loadBalancer.testListenerPort}/mcp`);
    }
    throw error;
  });
  ctx.out.step(`verify: passed: initialize, tools/list (${result.tools.join(", ")}), server_info x${result.samples} all ${color} ${version}`);
}

async function verifyInVpc(ctx: ReleaseContext, url: string, color: Color, version: string): Promise<void> {
  if (ctx.verifyOptions?.bearerToken) {
    // A container override is readable by anyone who may describe the task: no place for a token.
    throw new ReleaseError("MCP_VERIFY_TOKEN is set, but the in-VPC verify task cannot carry a token without exposing it in the task's overrides; verify with --from-here");
  }
  const timeoutSeconds = ctx.config.release.verifyTimeoutSeconds;
  ctx.out.step(`verify in the VPC: a one-off ${color} task checks ${url} (expecting ${color} ${version}; up to ${timeoutSeconds} s)`);
  const task = await ctx.aws.startVerifyTask(color, { command: [...IMAGE_VERIFY_COMMAND, url], ...verifierClient(ctx.config) });
  const taskId = task.split("/").pop();
  const deadline = ctx.clock.now().getTime() + timeoutSeconds * 1000;
  let state = await ctx.aws.verifyTask(task);
  while (state.status !== "STOPPED" && state.status !== "MISSING") {
    if (ctx.clock.now().getTime() >= deadline) {
      await ctx.aws.stopVerifyTask(task, `release verify: no result within ${timeoutSeconds} s`);
      throw new ReleaseError(`verify task ${taskId} gave no result within ${timeoutSeconds} s (last status ${state.status}) and was stopped; check that the private subnets reach ECR and the NAT gateways, or raise release.verifyTimeoutSeconds`);
    }
    await ctx.clock.sleep(VERIFY_POLL_SECONDS * 1000);
    state = await ctx.aws.verifyTask(task);
  }
  const logs = await ctx.aws.verifyTaskLogs(color, task);
  ctx.out.block(logs.map((line) => `  | ${line}`));
  if (state.exitCode === 0) {
    ctx.out.step(`verify: passed in the VPC (task ${taskId}): initialize, tools/list, server_info all ${color} ${version}`);
    return;
  }
  const exit = state.exitCode === undefined ? "stopped before the check ran" : `exited ${state.exitCode}`;
  throw new ReleaseError(`verify task ${taskId} ${exit}${state.reason ? ` (${state.reason})` : ""}${logs.length === 0 ? "; it wrote no log lines" : "; its log lines are above"}; production traffic is unaffected`);
}

/**
 * With JWT auth, the verify task runs as the verifier role and is told which OAuth client to be;
 * the secret itself stays in Secrets Manager, which only that role may read (dist/verify.js).
 */
export function verifierClient(config: EnvironmentConfig): Omit<VerifyRun, "command"> {
  if (!config.auth) return {};
  const { issuer, requiredScopes, verifier } = config.auth;
  const { region, accountId } = config.aws;
  const scopes = verifier.scopes ?? requiredScopes;
  return {
    taskRoleArn: arnOf(region, "iam", "", accountId, `role/${resourceNames.verifierRole(namePrefix(config.name))}`),
    environment: {
      MCP_VERIFY_ISSUER: issuer,
      MCP_VERIFY_CLIENT_ID: verifier.clientId,
      MCP_VERIFY_CLIENT_SECRET_ARN: verifier.clientSecretArn,
      ...(scopes.length > 0 ? { MCP_VERIFY_SCOPE: scopes.join(" ") } : {}),
    },
  };
}
