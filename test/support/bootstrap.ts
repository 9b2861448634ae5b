import { Testing } from "cdktf";
import { loadAllEnvironments } from "../../config/load";
import { BootstrapStack, bootstrapAccounts, type BootstrapAccount } from "../../stacks/bootstrap-stack";
import type { TerraformJson } from "./fixtures";

/** The bootstrap accounts of the repository's own environment configs. */
export function repositoryAccounts(): BootstrapAccount[] {
  return bootstrapAccounts(loadAllEnvironments().map((e) => e.config));
}

/** One bootstrap stack's Terraform JSON, as `npm run synth` writes it. */
export function synthBootstrap(account: BootstrapAccount): TerraformJson {
  return JSON.parse(Testing.synth(new BootstrapStack(Testing.app(), account.stackId, account)));
}

export interface IamStatement {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
}

/** Every statement of every aws_iam_policy_document in a stack, by document id. */
export function policyDocuments(json: TerraformJson): Record<string, IamStatement[]> {
  return Object.fromEntries(Object.entries(json.data?.aws_iam_policy_document ?? {}).map(([id, doc]) => [id, doc.statement as IamStatement[]]));
}
