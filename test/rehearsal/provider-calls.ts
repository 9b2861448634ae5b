import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Who calls what: for each Terraform resource type the stacks use, the IAM actions the AWS provider
 * 5.100.0 makes to create, read (refresh), update and delete it. The data lives in
 * provider-calls/<service>.json, one row per resource type, each naming the provider source file
 * (hashicorp/terraform-provider-aws at tag v5.100.0) it was taken from.
 */
export interface ProviderCall {
  /** IAM action, "service:Action". */
  readonly action: string;
  /**
   * What the action is authorized against:
   * - "self": the resource's own ARN;
   * - "*": the action supports no resource-level permissions;
   * - "attr:<path>": the resource (or ARN) named by that argument, a dotted path into the resource's
   *   configuration (lists are walked; one call per value);
   * - "arn:..." : a fixed ARN, with ${partition}, ${region} and ${account} substituted.
   */
  readonly on: string;
  /** "request": the request carries the resource's tags (aws:RequestTag/*, aws:TagKeys). */
  readonly tags?: "request";
  /** Extra request context keys with fixed values, e.g. {"ec2:CreateAction": "CreateVpc"}. */
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** Only when this argument (a dotted path) is set in the configuration. */
  readonly when?: string;
  /** The target carries no tags yet when the call is made (e.g. a VPC's default security group). */
  readonly untagged?: boolean;
  /** Why the call is there, where the source does not make it obvious. */
  readonly note?: string;
}

export interface ResourceCalls {
  /** Provider source file the calls were read from, e.g. "internal/service/elbv2/load_balancer.go". */
  readonly source: string;
  readonly create: readonly ProviderCall[];
  readonly read: readonly ProviderCall[];
  readonly update: readonly ProviderCall[];
  readonly delete: readonly ProviderCall[];
}

export type Phase = "create" | "read" | "update" | "delete";
export const PHASES: readonly Phase[] = ["create", "read", "update", "delete"];

const DIR = join(__dirname, "provider-calls");

/** Every row of every provider-calls/*.json file, by resource type. */
export function providerCalls(): Record<string, ResourceCalls> {
  const table: Record<string, ResourceCalls> = {};
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".json")).sort()) {
    const rows = JSON.parse(readFileSync(join(DIR, file), "utf8")) as Record<string, ResourceCalls>;
    for (const [type, row] of Object.entries(rows)) {
      if (table[type]) throw new Error(`provider-calls/${file}: ${type} is already listed in another file`);
      table[type] = row;
    }
  }
  return table;
}
