import type { AccountModel, Call, Principal } from "./account";
import { type Phase, type ProviderCall, type ResourceCalls, providerCalls } from "./provider-calls";
import type { RenderedStack } from "./render";

/** Resource types with no AWS call at all: Terraform computes them locally. */
const LOCAL_ONLY = new Set(["aws_iam_policy_document"]);

/** Resource types of a stack that the table does not list, so the rehearsal cannot cover them. */
export function missingFromTable(stack: RenderedStack, table: Record<string, ResourceCalls> = providerCalls()): string[] {
  const types = new Set(stack.resources().map((r) => r.type));
  return [...types].filter((t) => !LOCAL_ONLY.has(t) && !table[t]).sort();
}

/** The tag keys AWS sends: aws:RequestTag/* and aws:TagKeys for a request's tags, aws:ResourceTag/* for a resource's. */
export function tagContext(tags: Record<string, string>, prefix: "aws:RequestTag" | "aws:ResourceTag"): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}/${k}`, v]));
  if (prefix === "aws:RequestTag") context["aws:TagKeys"] = Object.keys(tags);
  return context;
}

/**
 * The calls the AWS provider makes as `principal` for one phase of every resource of a stack, with
 * the request context AWS would send: requested tags on creates, the target's tags when it exists,
 * and each row's own keys (iam:PassedToService, ec2:CreateAction, ...).
 */
export function providerCallsOf(model: AccountModel, stack: RenderedStack, principal: Principal, phases: readonly Phase[], table: Record<string, ResourceCalls> = providerCalls()): Call[] {
  const calls: Call[] = [];
  for (const { address, type } of stack.resources()) {
    const row = table[type];
    if (!row) continue;
    for (const phase of phases) {
      for (const providerCall of row[phase]) {
        if (providerCall.when && !stack.isSet(address, providerCall.when)) continue;
        for (const target of targetsOf(model, stack, address, providerCall)) {
          // On create, the call that makes the resource (and its tag-on-create) meets no tags; later
          // calls of the same create (read-back, rotation, attributes) find the tags it was created with.
          const creating = phase === "create" && target.self && (providerCall.tags === "request" || CREATE_ACTION_KEYS.some((k) => k in (providerCall.context ?? {})));
          const existing = !creating && !providerCall.untagged && target.address !== undefined;
          calls.push({
            principal,
            action: providerCall.action,
            resource: target.arn,
            context: {
              ...(providerCall.tags === "request" ? tagContext(stack.tagsOf(address), "aws:RequestTag") : {}),
              ...(existing ? tagContext(target.stack.tagsOf(target.address as string), "aws:ResourceTag") : {}),
              ...boundaryOf(target),
              ...substitute(stack, address, providerCall.context ?? {}),
            },
            why: `${phase} ${address} (${row.source})`,
          });
        }
      }
    }
  }
  return calls;
}

/** Condition keys that mark a tagging call as part of the create that makes the resource. */
const CREATE_ACTION_KEYS = ["ec2:CreateAction", "ecs:CreateAction", "elasticloadbalancing:CreateAction"];

/** IAM sends the boundary a role already has as iam:PermissionsBoundary on calls that change the role. */
function boundaryOf(target: Target): Record<string, string> {
  if (!target.address?.startsWith("aws_iam_role.")) return {};
  const boundary = target.stack.config(target.address).permissions_boundary;
  return boundary ? { "iam:PermissionsBoundary": String(boundary) } : {};
}

interface Target {
  readonly arn: string;
  readonly self: boolean;
  readonly address?: string;
  readonly stack: RenderedStack;
}

function targetsOf(model: AccountModel, stack: RenderedStack, address: string, call: ProviderCall): Target[] {
  const { partition, region, accountId } = stack.account;
  if (call.on === "*") return [{ arn: "*", self: false, stack }];
  if (call.on === "self") return [{ arn: stack.arn(address), self: true, address, stack }];
  if (call.on === "targettracking-alarms") {
    // Application Auto Scaling names the alarms of a target tracking policy after the scalable target.
    const resourceId = String(stack.config(address).resource_id);
    return [{ arn: `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:TargetTracking-${resourceId}-AlarmHigh-${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`, self: false, stack }];
  }
  if (call.on.startsWith("attr:")) {
    return stack.targetsAt(address, call.on.slice("attr:".length)).map(({ arn: value, address: target }) => {
      const arn = value.startsWith("arn:") ? value : arnOfLiteral(stack, call.action, value);
      const owner = target && value.startsWith("arn:") ? { stack, address: target } : model.find(arn);
      return { arn, self: false, address: owner?.address, stack: owner?.stack ?? stack };
    });
  }
  if (call.on.startsWith("arn:")) {
    const arn = call.on.replace(/\$\{partition\}/g, partition).replace(/\$\{region\}/g, region).replace(/\$\{account\}/g, accountId);
    return [{ arn, self: false, stack }];
  }
  throw new Error(`provider-calls: unknown target "${call.on}" for ${call.action}`);
}

/**
 * The ARN an action is authorized on when the argument holds an identifier, not an ARN: the
 * service's own ARN format for that identifier.
 */
function arnOfLiteral(stack: RenderedStack, action: string, value: string): string {
  const { partition, region, accountId } = stack.account;
  const service = action.split(":")[0];
  // "service/<cluster>/<service>": an Application Auto Scaling resource id names an ECS service.
  if (service === "ecs" && value.startsWith("service/")) return `arn:${partition}:ecs:${region}:${accountId}:${value}`;
  if (service === "application-autoscaling") {
    const target = stack.resources().find((r) => r.type === "aws_appautoscaling_target" && r.config.resource_id === value);
    if (target) return stack.arn(target.address);
  }
  // A replication group's member clusters are named <group id>-001, -002, ...
  if (service === "elasticache") return `arn:${partition}:elasticache:${region}:${accountId}:cluster:${value}-001`;
  const named = stack.resources().find((r) => r.config.name === value || r.config.bucket === value);
  if (named) return stack.arn(named.address);
  throw new Error(`provider-calls: ${action} is authorized on "${value}", which names no resource of ${stack.name}`);
}

/** Fills "${attr:<path>}" in a row's context values with what the argument renders to. */
function substitute(stack: RenderedStack, address: string, context: Readonly<Record<string, string | string[]>>): Record<string, string | string[]> {
  const fill = (value: string) =>
    value.replace(/\$\{attr:([^}]+)\}/g, (_, path: string) => {
      const targets = stack.targetsAt(address, path);
      return targets.map((t) => t.arn).join(",");
    });
  return Object.fromEntries(Object.entries(context).map(([k, v]) => [k, Array.isArray(v) ? v.map(fill) : fill(v)]));
}
