import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type Action,
  type ModifyListenerCommandInput,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { loadEnvironment, type Environment } from "../config/load";
import { productionListenerPort } from "../config/names";
import type { ReleaseManifest } from "../config/release-manifest";
import { awsClients, SdkReleaseAws } from "../release/aws";
import { prepareRollback, returnTrafficTo, rollback } from "../release/commands/rollback";
import { releasePolicy, type ReleaseContext } from "../release/context";
import { Reporter } from "../release/report";
import { finishPromotion, planStep } from "../release/state-machine";
import { FakeClock } from "./release/support";
import { resourcesOf, synthStackText, type TerraformJson } from "./support/fixtures";
import { offlineConfiguration, OfflineWorkdir } from "./support/terraform";

/*
 * The fast rollback sets the production listener's weights with one ModifyListener call, then
 * writes the manifest and applies it. That apply must find the listener already as configured, or
 * it would move traffic a second time. Real Terraform judges it: the production listener
 * synthesized from the manifest the rollback applies, planned against a state holding what AWS
 * holds after the recorded call.
 */

type EnvironmentName = "staging" | "production";
type Values = Record<string, unknown>;
type StateAction = Values & { forward: Values[] };

const environments: Record<EnvironmentName, Environment> = { staging: loadEnvironment("staging"), production: loadEnvironment("production") };
const policy = (name: EnvironmentName) => releasePolicy(environments[name].config);

// Mid-release manifests as promote writes them; without an observation planStep skips only the readiness check.
const stagingAt10 = planStep(environments.staging.release, 10, undefined, policy("staging"));
const productionGreenStable = finishPromotion(planStep(environments.production.release, 100, undefined, policy("production")));
const productionBlueAt25 = planStep(productionGreenStable, 25, undefined, policy("production"));
const productionGreenAt100 = planStep(environments.production.release, 100, undefined, policy("production"));

interface RollbackCase {
  /** A Terraform name for the case's listener. */
  readonly key: string;
  readonly title: string;
  readonly environment: EnvironmentName;
  readonly before: ReleaseManifest;
  /** What the CLI runs: the rollback command, or promote's rollback after a failed bake. */
  readonly run: (ctx: ReleaseContext) => Promise<unknown>;
}

const CASES: RollbackCase[] = [
  { key: "staging_rollback", title: "staging, `rollback` at blue 90 / green 10", environment: "staging", before: stagingAt10, run: rollback },
  // Green stable, so the 100% lands on the second target group of the forward action.
  { key: "production_rollback", title: "production, `rollback` at green 75 / blue 25", environment: "production", before: productionBlueAt25, run: rollback },
  {
    key: "production_final_bake",
    title: "production, promote's failed final bake (green 100%, back to blue)",
    environment: "production",
    before: productionGreenAt100,
    run: async (ctx) => {
      await prepareRollback(ctx);
      await returnTrafficTo(ctx, productionGreenAt100, "blue");
    },
  },
];

const hex = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** The ELBv2 objects of a stack as AWS names them once applied: ARNs by resource name, listeners by port. */
function accountOf(environment: EnvironmentName, stack: TerraformJson) {
  const { accountId, region } = environments[environment].config.aws;
  const arn = (resource: string) => `arn:aws:elasticloadbalancing:${region}:${accountId}:${resource}`;
  const [loadBalancer, ...others] = Object.values(resourcesOf(stack, "aws_lb")).map((lb) => lb.name as string);
  if (!loadBalancer || others.length > 0) throw new Error(`expected one load balancer in the ${environment} stack`);
  const lbArn = arn(`loadbalancer/app/${loadBalancer}/${hex(loadBalancer)}`);
  const targetGroups = Object.fromEntries(Object.values(resourcesOf(stack, "aws_lb_target_group")).map((tg) => [tg.name as string, arn(`targetgroup/${tg.name}/${hex(String(tg.name))}`)]));
  const listenerArn = (port: number) => `${lbArn.replace(":loadbalancer/", ":listener/")}/${hex(String(port))}`;
  const ports = Object.values(resourcesOf(stack, "aws_lb_listener")).map((l) => l.port as number);
  return { loadBalancer, lbArn, targetGroups, listenerArn, ports };
}
type Account = ReturnType<typeof accountOf>;

/** The production listener of the stack synthesized for `release`: its id, and its configuration with references replaced by the account's ARNs. */
function productionListener(environment: EnvironmentName, release: ReleaseManifest): { id: string; config: Values; stack: TerraformJson } {
  const env = environments[environment];
  const stack: TerraformJson = JSON.parse(synthStackText(environment, { ...env, release }));
  const port = productionListenerPort(env.config.loadBalancer.certificateArn !== undefined);
  const [found, ...more] = Object.entries(resourcesOf(stack, "aws_lb_listener")).filter(([, l]) => l.port === port);
  if (!found || more.length > 0) throw new Error(`expected one listener on port ${port} in the ${environment} stack`);
  const account = accountOf(environment, stack);
  const text = JSON.stringify(found[1]).replace(/\$\{(aws_lb|aws_lb_target_group)\.([^.}]+)\.arn\}/g, (_match, type: string, id: string) => {
    const name = resourcesOf(stack, type)[id]?.name as string;
    return type === "aws_lb" ? account.lbArn : account.targetGroups[name]!;
  });
  if (text.includes("${")) throw new Error(`a reference the account does not resolve: ${text}`);
  return { id: found[0], config: JSON.parse(text), stack };
}

/** Runs the case's CLI code against ELBv2 answering for `account`; returns the one ModifyListener input and the manifest applied after it. */
async function runCase(rollbackCase: RollbackCase, account: Account): Promise<{ call: ModifyListenerCommandInput; applied: ReleaseManifest }> {
  const { config } = environments[rollbackCase.environment];
  const elb = mockClient(ElasticLoadBalancingV2Client);
  try {
    elb.on(DescribeLoadBalancersCommand).callsFake(({ Names = [] }) => ({
      LoadBalancers: Names.includes(account.loadBalancer) ? [{ LoadBalancerName: account.loadBalancer, LoadBalancerArn: account.lbArn, DNSName: `${account.loadBalancer}.elb.amazonaws.com` }] : [],
    }));
    elb.on(DescribeTargetGroupsCommand).callsFake(({ Names = [] }) => ({
      TargetGroups: Names.filter((n: string) => account.targetGroups[n]).map((n: string) => ({ TargetGroupName: n, TargetGroupArn: account.targetGroups[n] })),
    }));
    elb.on(DescribeListenersCommand).callsFake(({ LoadBalancerArn }) => ({
      Listeners: LoadBalancerArn === account.lbArn ? account.ports.map((Port) => ({ Port, ListenerArn: account.listenerArn(Port), LoadBalancerArn })) : [],
    }));
    elb.on(ModifyListenerCommand).resolves({});

    const applies: Array<{ release: ReleaseManifest; movesBefore: number }> = [];
    let written: ReleaseManifest | undefined;
    const clock = new FakeClock();
    const ctx: ReleaseContext = {
      environment: rollbackCase.environment,
      config,
      store: { file: `config/releases/${rollbackCase.environment}.json`, read: () => written ?? rollbackCase.before, write: (m) => void (written = m) },
      aws: new SdkReleaseAws(rollbackCase.environment, awsClients(config.aws.region)),
      applier: {
        plan: async () => true,
        apply: async (_environment, release) => void applies.push({ release: release!, movesBefore: elb.commandCalls(ModifyListenerCommand).length }),
      },
      clock,
      out: new Reporter(clock, () => undefined),
      dryRun: false,
    };
    await rollbackCase.run(ctx);

    const calls = elb.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input);
    // One direct move, made before the one apply, and the manifest written is the one applied.
    expect({ moves: calls.length, applies: applies.map((a) => a.movesBefore), written: written === applies[0]?.release }).toEqual({ moves: 1, applies: [1], written: true });
    return { call: calls[0]!, applied: applies[0]!.release };
  } finally {
    elb.restore();
  }
}

/**
 * The default actions as the provider's refresh would record them from AWS after the call
 * (flattenLbListenerActions for a forward configured as a `forward` block); what the call says
 * nothing of keeps the listener's planned value.
 */
function stateActions(actions: Action[], planned: StateAction[]): StateAction[] {
  return actions.map((action, i) => {
    const unknown = Object.keys(action).filter((k) => !["Type", "Order", "ForwardConfig", "TargetGroupArn"].includes(k));
    if (action.Type !== "forward" || unknown.length > 0) throw new Error(`the state derivation knows forward actions only, not ${JSON.stringify(action)}`);
    const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
    return {
      ...planned[Math.min(i, planned.length - 1)]!,
      type: action.Type,
      // The provider records AWS's order or 0; the configuration leaves order to AWS, so either plans the same.
      order: action.Order ?? 0,
      target_group_arn: action.TargetGroupArn ?? null,
      forward: action.ForwardConfig
        ? [
            {
              target_group: (action.ForwardConfig.TargetGroups ?? []).map((g) => ({ arn: g.TargetGroupArn ?? "", weight: g.Weight ?? 0 })),
              stickiness: stickiness ? [{ enabled: stickiness.Enabled ?? false, duration: stickiness.DurationSeconds ?? 0 }] : [],
            },
          ]
        : [],
    };
  });
}

/** The control's name for a case's listener: the manifest before the rollback, planned against the same moved state. */
const controlKey = (key: string) => `control_${key}`;

/** One working directory for every case, each environment's provider under its own alias, so that one plan judges all. */
function configuration(listeners: Array<{ key: string; environment: EnvironmentName; config: Values; stack: TerraformJson }>): TerraformJson {
  const providers = new Map(listeners.map(({ environment, stack }) => [environment, { ...stack.provider.aws[0], alias: environment }]));
  return {
    terraform: listeners[0]!.stack.terraform,
    provider: { aws: [...providers.values()] },
    resource: { aws_lb_listener: Object.fromEntries(listeners.map(({ key, environment, config }) => [key, { ...config, provider: `aws.${environment}` }])) },
  };
}

describe("the Terraform plan after a fast rollback's direct listener move", () => {
  let workdir: OfflineWorkdir | undefined;
  const moves = new Map<string, { call: ModifyListenerCommandInput; productionListenerArn: string }>();
  /** What the plan against the moved state does to each listener it changes, and its part of the plan. */
  const changes = new Map<string, { action: string; diff: string }>();
  let plan = { code: -1, output: "" };

  beforeAll(async () => {
    const created = [];
    const judged = [];
    for (const rollbackCase of CASES) {
      const { key, environment } = rollbackCase;
      const before = productionListener(environment, rollbackCase.before);
      const account = accountOf(environment, before.stack);
      const { call, applied } = await runCase(rollbackCase, account);
      const after = productionListener(environment, applied);
      if (after.id !== before.id) throw new Error(`the rollback's stack names the production listener ${after.id}, not ${before.id}`);
      moves.set(key, { call, productionListenerArn: account.listenerArn(before.config.port as number) });
      created.push({ key, environment, ...before }, { key: controlKey(key), environment, ...before });
      judged.push({ key, environment, ...after }, { key: controlKey(key), environment, ...before });
    }

    // Every attribute Terraform records of the listeners as they stood before the move: the plan that created them.
    workdir = new OfflineWorkdir(configuration(created));
    const init = workdir.run("init", "-input=false");
    if (init.code !== 0) throw new Error(`terraform init failed:\n${init.output}`);
    const creation = workdir.run("plan", "-input=false", "-lock=false", "-out=created.tfplan");
    if (creation.code !== 0) throw new Error(`terraform plan failed:\n${creation.output}`);
    const show = workdir.run("show", "-json", "created.tfplan");
    if (show.code !== 0) throw new Error(`terraform show failed:\n${show.output}`);
    const shown = JSON.parse(show.output);
    const planned: Array<{ name: string; provider_name: string; schema_version: number; values: Values }> = shown.planned_values.root_module.resources;

    // What AWS holds after each move: the listener as created, with the call's default action if the call named it.
    const state = {
      version: 4,
      terraform_version: shown.terraform_version,
      serial: 1,
      lineage: "00000000-0000-4000-8000-000000000001",
      outputs: {},
      resources: planned.map((resource) => {
        const rollbackCase = CASES.find((c) => resource.name === c.key || resource.name === controlKey(c.key))!;
        const { call, productionListenerArn } = moves.get(rollbackCase.key)!;
        const createdActions = resource.values.default_action as StateAction[];
        const attributes = {
          ...resource.values,
          id: productionListenerArn,
          arn: productionListenerArn,
          default_action: call.ListenerArn === productionListenerArn ? stateActions(call.DefaultActions ?? [], createdActions) : createdActions,
        };
        return {
          mode: "managed",
          type: "aws_lb_listener",
          name: resource.name,
          provider: `provider["${resource.provider_name}"].${rollbackCase.environment}`,
          instances: [{ schema_version: resource.schema_version, attributes, sensitive_attributes: [] }],
        };
      }),
    };
    fs.writeFileSync(path.join(workdir.dir, "terraform.tfstate"), JSON.stringify(state, null, 2));

    // No refresh: the state stands for what AWS would answer.
    fs.writeFileSync(path.join(workdir.dir, "main.tf.json"), JSON.stringify(offlineConfiguration(configuration(judged)), null, 2));
    plan = workdir.run("plan", "-input=false", "-lock=false", "-refresh=false", "-detailed-exitcode");
    if (plan.code !== 0 && plan.code !== 2) throw new Error(`terraform plan failed:\n${plan.output}`);
    for (const diff of plan.output.split(/\n(?= {2}# )/)) {
      const [, address, action] = /^ {2}# aws_lb_listener\.(\S+) (will be [\w -]+|must be replaced)/.exec(diff) ?? [];
      if (address) changes.set(address, { action: action!, diff: diff.split(/\n(?=Plan: )/)[0]!.trimEnd() });
    }
  }, 180_000);

  afterAll(() => workdir?.remove());

  it.each(CASES.map((c) => [c.title, c] as const))("%s: the call moves the production listener, and Terraform then plans no change to it", (_title, rollbackCase) => {
    const { call, productionListenerArn } = moves.get(rollbackCase.key)!;
    expect(call.ListenerArn).toBe(productionListenerArn);
    expect(changes.get(rollbackCase.key)?.diff ?? "no change").toBe("no change");
  });

  // The control: the check above can fail. Each manifest before its rollback disagrees with what the call set.
  it("plans the weights back for each manifest before its rollback, and nothing else", () => {
    // -detailed-exitcode: 2 is a plan with changes.
    expect(plan.code).toBe(2);
    expect(Object.fromEntries([...changes].map(([address, { action }]) => [address, action]))).toEqual(Object.fromEntries(CASES.map((c) => [controlKey(c.key), "will be updated in-place"])));
    expect(plan.output).toMatch(new RegExp(`Plan: 0 to add, ${CASES.length} to change, 0 to destroy`));
    // Only weights differ (a target group set element is replaced whole, so its arn shows too, unchanged).
    const changed = [...plan.output.matchAll(/^\s+[-+~] (\w+)\s+=/gm)].map((m) => m[1]);
    expect([...new Set(changed)].sort()).toEqual(["arn", "weight"]);
    const arns = (pattern: RegExp) => [...plan.output.matchAll(pattern)].map((m) => m[1]).sort();
    expect(arns(/- arn\s+= "([^"]+)" -> null/g)).toEqual(arns(/\+ arn\s+= "([^"]+)"$/gm));
  });
});
