import { Testing } from "cdktf";
import { CloudwatchCompositeAlarm } from "@cdktf/provider-aws/lib/cloudwatch-composite-alarm";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { ColorAlarms, type ColorAlarmsProps } from "../../constructs/color-alarms";

const props: ColorAlarmsProps = {
  name: "mcp-test-green",
  environment: "test",
  color: "green",
  topicArn: "arn:aws:sns:eu-west-1:123456789012:alarms",
  loadBalancerArnSuffix: "app/mcp-test/1",
  targetGroupArnSuffix: "targetgroup/mcp-test-green/2",
  clusterName: "mcp-test",
  serviceName: "mcp-test-green",
  logGroupName: "/ecs/mcp-test/green",
};
const synth = (overrides: Partial<ColorAlarmsProps> = {}) => JSON.parse(Testing.synthScope((scope) => new ColorAlarms(scope, "alarms", { ...props, ...overrides })));
const alarms = (json: { resource: Record<string, Record<string, Record<string, unknown>>> }) =>
  Object.fromEntries(Object.values(json.resource[CloudwatchMetricAlarm.tfResourceType]).map((a) => [String(a.alarm_name).replace("mcp-test-green-", ""), a]));

describe("ColorAlarms", () => {
  it("uses the environment's window and thresholds from props", () => {
    const all = alarms(synth({ periodSeconds: 300, evaluationPeriods: 4, datapointsToAlarm: 2, p99ResponseTimeSeconds: 1.5 }));
    expect(all["p99-response-time"]).toMatchObject({ period: 300, evaluation_periods: 4, datapoints_to_alarm: 2, threshold: 1.5, extended_statistic: "p99" });
  });

  it("alarms on the circuit breaker when the server's state gauge reaches open", () => {
    expect(alarms(synth())["circuit-breaker-open"]).toMatchObject({
      namespace: "MCPServer",
      metric_name: "CircuitBreakerState",
      dimensions: { environment: "test", color: "green" },
      comparison_operator: "GreaterThanOrEqualToThreshold",
      threshold: 2,
    });
  });

  it("computes the cache error rate from hits, misses and errors, ignoring low volume", () => {
    const queries = alarms(synth({ cacheErrorRatePercent: 10 }))["cache-error-rate"].metric_query as { id: string; expression?: string }[];
    expect(queries.map((q) => q.id)).toEqual(["hits", "misses", "errors", "rate"]);
    expect(queries[3].expression).toMatch(/^IF\(.* >= 10, 100 \* FILL\(errors, 0\)/);
  });

  it("combines 5xx rate, latency, unhealthy hosts and the breaker into the colour's gate", () => {
    const [composite] = Object.values(synth().resource[CloudwatchCompositeAlarm.tfResourceType]) as { alarm_name: string; alarm_rule: string; alarm_actions: string[] }[];
    expect(composite.alarm_name).toBe("mcp-test-green-unhealthy");
    expect(composite.alarm_rule.split(" OR ").map((r) => r.replace(/\.alarm_name.*$/, "").replace(/^.*\./, ""))).toHaveLength(4);
    expect(composite.alarm_actions).toEqual([props.topicArn]);
  });

  it("counts error log lines from the server's JSON logs", () => {
    const [filter] = Object.values(synth().resource[CloudwatchLogMetricFilter.tfResourceType]) as { pattern: string; log_group_name: string }[];
    expect(filter).toMatchObject({ pattern: "{ $.level >= 50 }", log_group_name: "/ecs/mcp-test/green" });
  });
});
