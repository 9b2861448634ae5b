import { Testing } from "cdktf";
import { BlueGreenLoadBalancer } from "../../constructs/blue-green-load-balancer";
import { ColorDeployment, type ColorDeploymentProps } from "../../constructs/color-deployment";
import { RedisCache } from "../../constructs/redis-cache";

type Props = Omit<ColorDeploymentProps, "loadBalancer" | "redis">;
const props: Props = {
  name: "mcp-test",
  environment: "test",
  color: "green",
  region: "eu-west-1",
  cluster: { arn: "arn:aws:ecs:eu-west-1:111111111111:cluster/mcp-test", name: "mcp-test" },
  network: { vpcId: "vpc-1", vpcCidr: "10.0.0.0/16", subnetIds: ["subnet-a", "subnet-b"] },
  image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mcp-server@sha256:" + "ab".repeat(32),
  version: "1.0.0",
  minTasks: 1,
  maxTasks: 4,
  alarms: { topicArn: "arn:aws:sns:eu-west-1:111111111111:mcp-test-alarms" },
};

function synth(withRedis: boolean) {
  return JSON.parse(
    Testing.synthScope((scope) => {
      const loadBalancer = new BlueGreenLoadBalancer(scope, "lb", {
        name: "mcp-test",
        region: "eu-west-1",
        vpcId: "vpc-1",
        vpcCidr: "10.0.0.0/16",
        publicSubnetIds: ["subnet-a", "subnet-b"],
        weights: { blue: 100, green: 0 },
        testColor: "green",
        testListenerCidrs: ["10.0.0.0/8"],
      });
      const redis = withRedis ? new RedisCache(scope, "redis", { name: "mcp-test", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] }) : undefined;
      new ColorDeployment(scope, "green", { ...props, loadBalancer, redis });
    }),
  );
}

const policies = (json: { data: { aws_iam_policy_document: Record<string, { statement: { actions: string[] }[] }> } }) =>
  Object.values(json.data.aws_iam_policy_document).flatMap((d) => d.statement.flatMap((s) => s.actions));
const egressPorts = (json: { resource: { aws_vpc_security_group_egress_rule: Record<string, { from_port: number }> } }) =>
  Object.values(json.resource.aws_vpc_security_group_egress_rule).map((r) => r.from_port);

describe("ColorDeployment", () => {
  it("builds the colour's service, collector, scaling and the alarm a release gates on", () => {
    const json = synth(true);
    expect(Object.values(json.resource.aws_ecs_service).map((s) => (s as { name: string }).name)).toEqual(["mcp-test-green"]);
    expect(Object.values(json.resource.aws_cloudwatch_composite_alarm).map((a) => (a as { alarm_name: string }).alarm_name)).toEqual(["mcp-test-green-unhealthy"]);
    expect(Object.keys(json.resource.aws_appautoscaling_target)).toHaveLength(1);
    const containers = JSON.parse(String((Object.values(json.resource.aws_ecs_task_definition)[0] as { container_definitions: string }).container_definitions));
    expect(containers.map((c: { name: string }) => c.name)).toEqual(["mcp-server", "otel-collector"]);
  });

  it("opens the cache's port and grants elasticache:Connect only when it has a cache", () => {
    const withCache = synth(true);
    expect(policies(withCache)).toContain("elasticache:Connect");
    expect(egressPorts(withCache)).toContain(6379);
    const without = synth(false);
    expect(policies(without)).not.toContain("elasticache:Connect");
    expect(egressPorts(without)).not.toContain(6379);
  });
});
