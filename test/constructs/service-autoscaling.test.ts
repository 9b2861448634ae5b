import { Testing } from "cdktf";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { ServiceAutoscaling, type ServiceAutoscalingProps } from "../../constructs/service-autoscaling";

function synth(overrides: Partial<ServiceAutoscalingProps> = {}) {
  return Testing.synthScope((scope) => {
    const service = new EcsService(scope, "service", { name: "mcp-test-blue" });
    new ServiceAutoscaling(scope, "scaling", {
      clusterName: "mcp-test",
      service,
      serviceName: "mcp-test-blue",
      loadBalancerArnSuffix: "app/mcp-test/123",
      targetGroupArnSuffix: "targetgroup/mcp-test-blue/456",
      minTasks: 2,
      maxTasks: 8,
      ...overrides,
    });
  });
}
const resources = (synthesized: string, type: string) => Object.values(JSON.parse(synthesized).resource[type]) as Record<string, unknown>[];

describe("ServiceAutoscaling", () => {
  it("registers the service's desired count between min and max", () => {
    expect(synth()).toHaveResourceWithProperties(AppautoscalingTarget, { resource_id: "service/mcp-test/mcp-test-blue", min_capacity: 2, max_capacity: 8, scalable_dimension: "ecs:service:DesiredCount" });
  });

  it("tracks requests per target on the colour's own target group", () => {
    const [tracking] = resources(synth({ requestsPerTargetPerMinute: 600 }), AppautoscalingPolicy.tfResourceType).filter((p) => p.policy_type === "TargetTrackingScaling");
    expect(tracking.target_tracking_scaling_policy_configuration).toMatchObject({
      target_value: 600,
      predefined_metric_specification: { predefined_metric_type: "ALBRequestCountPerTarget", resource_label: "app/mcp-test/123/targetgroup/mcp-test-blue/456" },
    });
  });

  it("scales out by steps while the response-time percentile is over its threshold", () => {
    const synthesized = synth({ responseTimeStatistic: "p99", responseTimeThresholdSeconds: 0.8, responseTimeScaleOutTasks: 3 });
    const [step] = resources(synthesized, AppautoscalingPolicy.tfResourceType).filter((p) => p.policy_type === "StepScaling");
    expect(step.step_scaling_policy_configuration).toMatchObject({ adjustment_type: "ChangeInCapacity", step_adjustment: [{ metric_interval_lower_bound: "0", scaling_adjustment: 3 }] });
    const [alarm] = resources(synthesized, CloudwatchMetricAlarm.tfResourceType);
    expect(alarm).toMatchObject({ metric_name: "TargetResponseTime", extended_statistic: "p99", threshold: 0.8, treat_missing_data: "notBreaching", dimensions: { TargetGroup: "targetgroup/mcp-test-blue/456" } });
    expect((alarm.alarm_actions as string[])[0]).toMatch(/aws_appautoscaling_policy\..*response-time.*\.arn/);
  });

  it("refuses a minimum above the maximum", () => {
    expect(() => synth({ minTasks: 9 })).toThrow(/must not exceed maxTasks/);
  });
});
