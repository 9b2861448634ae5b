import { ElasticLoadBalancingV2Client, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ModifyListenerCommand, type Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as fs from "node:fs";
import * as path from "node:path";
import { mockClient } from "aws-sdk-client-mock";
import { loadEnvironment } from "../config/load";
import type { ReleaseManifest } from "../config/release-manifest";
import { awsClients, SdkReleaseAws } from "../release/aws";
import { planRollback } from "../release/state-machine";
import { resourcesOf, synthStackText, type TerraformJson } from "./support/fixtures";
import { offlineConfiguration, OfflineWorkdir } from "./support/terraform";

/*
 * The fast rollback moves traffic with one ModifyListener call, then applies the same weights
 * through Terraform. Real Terraform must then find the production listener as configured: a state
 * holding what AWS holds after the call (weights taken from the recorded call) plans no change.
 */
const ARN = {
  lb: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/mcp-staging/3",
  listener: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/mcp-staging/3/80",
  blue: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/mcp-staging-blue/1",
  green: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/mcp-staging-green/2",
};

const staging = loadEnvironment("staging");
const atTenPercent: ReleaseManifest = {
  ...staging.release,
  stable: "blue",
  colors: { blue: { ...staging.release.colors.blue, weight: 90 }, green: { ...staging.release.colors.green, weight: 10 } },
};
const rolledBack = planRollback(atTenPercent);

/** The production listener of the stack synthesized for `release`, alone, its references replaced by the ARNs AWS gave. */
function listenerOnly(release: ReleaseManifest): TerraformJson {
  const stack: TerraformJson = JSON.parse(synthStackText("staging", { ...staging, release }));
  const [id, listener] = Object.entries(resourcesOf(stack, "aws_lb_listener")).find(([key]) => key.includes("load-balancer_http") && !key.includes("redirect"))!;
  const text = JSON.stringify(listener)
    .replace(/\$\{aws_lb\.[^}]+\.arn\}/g, ARN.lb)
    .replace(/\$\{aws_lb_target_group\.[^}]*blue[^}]*\.arn\}/g, ARN.blue)
    .replace(/\$\{aws_lb_target_group\.[^}]*green[^}]*\.arn\}/g, ARN.green);
  if (text.includes("${")) throw new Error(`unresolved reference in the listener: ${text}`);
  return { terraform: stack.terraform, provider: stack.provider, resource: { aws_lb_listener: { [id]: JSON.parse(text) } } };
}

/** The weights SdkReleaseAws.moveTraffic sends for the rollback, from the recorded ModifyListener call. */
async function recordedMove(): Promise<Action[]> {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: ARN.lb, DNSName: "lb" }] });
  elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupName: "mcp-staging-blue", TargetGroupArn: ARN.blue }, { TargetGroupName: "mcp-staging-green", TargetGroupArn: ARN.green }] });
  elb.on(DescribeListenersCommand).resolves({ Listeners: [{ Port: 80, ListenerArn: ARN.listener }] });
  elb.on(ModifyListenerCommand).resolves({});
  const aws = new SdkReleaseAws("staging", awsClients("eu-west-1"));
  await aws.prepareTrafficMove(80);
  await aws.moveTraffic({ blue: rolledBack.colors.blue.weight, green: rolledBack.colors.green.weight });
  const actions = elb.commandCalls(ModifyListenerCommand)[0]!.args[0].input.DefaultActions!;
  elb.restore();
  return actions;
}

describe("the plan after a fast rollback's traffic move", () => {
  let workdir: OfflineWorkdir;

  beforeAll(async () => {
    const moved = await recordedMove();
    // The listener as it stood at 10%: every attribute Terraform knows of it, as planned from its configuration.
    workdir = new OfflineWorkdir(listenerOnly(atTenPercent));
    const init = workdir.run("init", "-input=false");
    if (init.code !== 0) throw new Error(`terraform init failed:\n${init.output}`);
    expect(workdir.run("plan", "-input=false", "-lock=false", "-out=before.tfplan").code).toBe(0);
    const planned = JSON.parse(workdir.run("show", "-json", "before.tfplan").output.split("\n").find((l) => l.startsWith("{"))!);
    const resource = planned.planned_values.root_module.resources[0];
    // What AWS computes at creation and Terraform reads back: the ARN, the default tags, each action's order (ELBv2 numbers them from 1).
    const defaultTags = (listenerOnly(atTenPercent).provider.aws[0] as { default_tags?: Array<{ tags: Record<string, string> }> }).default_tags?.[0]?.tags ?? {};
    const values = { ...resource.values, id: ARN.listener, arn: ARN.listener, tags_all: { ...defaultTags, ...resource.values.tags } };
    values.default_action.forEach((action: { order?: number }, i: number) => (action.order = i + 1));
    // What AWS holds after the call: the call's forward weights on the listener.
    const groups = moved[0]!.ForwardConfig!.TargetGroups!.map((g) => ({ arn: g.TargetGroupArn, weight: g.Weight }));
    values.default_action[0].forward[0].target_group = groups;
    const state = {
      version: 4,
      terraform_version: planned.terraform_version,
      serial: 1,
      lineage: "fast-rollback-plan",
      outputs: {},
      resources: [{ mode: "managed", type: "aws_lb_listener", name: resource.name, provider: `provider["${resource.provider_name}"]`, instances: [{ schema_version: 0, attributes: values }] }],
    };
    fs.writeFileSync(path.join(workdir.dir, "terraform.tfstate"), JSON.stringify(state));
  }, 120_000);

  afterAll(() => workdir?.remove());

  const planAgainst = (release: ReleaseManifest) => {
    fs.writeFileSync(path.join(workdir.dir, "main.tf.json"), JSON.stringify(offlineConfiguration(listenerOnly(release))));
    return workdir.run("plan", "-input=false", "-lock=false", "-refresh=false", "-detailed-exitcode");
  };

  it("shows no listener change for the manifest the rollback writes", () => {
    const plan = planAgainst(rolledBack);
    expect({ code: plan.code, output: plan.code === 0 ? "" : plan.output }).toEqual({ code: 0, output: "" });
  }, 120_000);

  // The control: the check can fail. The manifest before the rollback disagrees with what the call set.
  it("shows the listener's weights changing for the manifest before the rollback", () => {
    const plan = planAgainst(atTenPercent);
    expect(plan.code).toBe(2);
    expect(plan.output).toMatch(/aws_lb_listener\.\S+ will be updated in-place/);
    expect(plan.output).toMatch(/- weight = 100 -> null[\s\S]*\+ weight = 90/);
  }, 120_000);
});
