import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, LocalBackend, TerraformBackend, TerraformStack, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";

/**
 * Set to "1" by the tests and `npm run plan:offline` only: every stack then plans with no AWS
 * account (see OfflinePlan). Never set in CI, where a stack must reach its real state.
 */
export const OFFLINE_PLAN_VARIABLE = "MCP_DEPLOY_OFFLINE_PLAN";

/** Provider settings that let Terraform plan without an AWS account: fake keys, and no call that needs one. */
export const OFFLINE_PROVIDER_SETTINGS = {
  access_key: "AKIAIOSFODNN7EXAMPLE",
  secret_key: "offline-plan-fake-secret",
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  skip_region_validation: true,
} as const;

/**
 * Makes a stack plannable offline: a local backend in its own output folder (never the real
 * state, in S3 or, for a bootstrap stack, in bootstrap/state), and
 * every AWS provider on fake credentials with the account checks off (`allowed_account_ids` can
 * be checked only against a real account).
 */
export class OfflinePlan implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof TerraformStack) {
      const backend = node.node.children.find((c) => c instanceof TerraformBackend);
      if (backend) node.node.tryRemoveChild(backend.node.id);
      new LocalBackend(node, { path: "terraform.tfstate" });
    } else if (node instanceof AwsProvider) {
      node.allowedAccountIds = undefined;
      for (const [key, value] of Object.entries(OFFLINE_PROVIDER_SETTINGS)) node.addOverride(key, value);
    }
  }
}

/** Applies OfflinePlan to every stack of `app` when OFFLINE_PLAN_VARIABLE is "1". */
export function planOfflineIfAsked(app: IConstruct, env: NodeJS.ProcessEnv = process.env): void {
  if (env[OFFLINE_PLAN_VARIABLE] !== "1") return;
  // cdktf invokes aspects stack by stack, from each stack down: an aspect on the app is never run.
  for (const stack of app.node.children) Aspects.of(stack).add(new OfflinePlan());
}
