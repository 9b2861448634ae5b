import { Testing } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { LoadBalancerAlarms } from "../../constructs/load-balancer-alarms";
import { RedisAlarms } from "../../constructs/redis-alarms";

const topicArn = "arn:aws:sns:eu-west-1:123456789012:alarms";
const names = (synthesized: string) => (Object.values(JSON.parse(synthesized).resource[CloudwatchMetricAlarm.tfResourceType]) as { alarm_name: string }[]).map((a) => a.alarm_name).sort();

describe("LoadBalancerAlarms", () => {
  it("watches the load balancer's own 5xx and rejected connections", () => {
    expect(names(Testing.synthScope((scope) => new LoadBalancerAlarms(scope, "lb", { topicArn, name: "mcp-test", loadBalancerArnSuffix: "app/mcp-test/1" })))).toEqual([
      "mcp-test-alb-5xx",
      "mcp-test-alb-rejected-connections",
    ]);
  });
});

describe("RedisAlarms", () => {
  it("watches every node, and replication lag only on replicas", () => {
    const all = names(Testing.synthScope((scope) => new RedisAlarms(scope, "redis", { topicArn, name: "mcp-test", memberClusterIds: ["c-001", "c-002"] })));
    expect(all).toEqual(["c-001-connections", "c-001-cpu", "c-001-engine-cpu", "c-001-evictions", "c-001-memory", "c-002-connections", "c-002-cpu", "c-002-engine-cpu", "c-002-evictions", "c-002-memory", "c-002-replication-lag"]);
  });

  it("treats a node that stops reporting engine CPU as breaching", () => {
    const alarms = Object.values(JSON.parse(Testing.synthScope((scope) => new RedisAlarms(scope, "redis", { topicArn, name: "mcp-test", memberClusterIds: ["c-001"] }))).resource[CloudwatchMetricAlarm.tfResourceType]) as { alarm_name: string; treat_missing_data: string }[];
    expect(alarms.find((a) => a.alarm_name === "c-001-engine-cpu")!.treat_missing_data).toBe("breaching");
  });
});
