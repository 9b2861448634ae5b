import { AUTOSCALING_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { resourceNames } from "../config/names";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { EcsService } from "@cdktf/provider-aws/lib/ecs-service";

export interface ServiceAutoscalingProps {
  /** Cluster the service runs in. Required. */
  readonly clusterName: string;
  /** The service to scale. Required. */
  readonly service: EcsService;
  /** Name of the service (known at synth, for the scalable target's id). Required. */
  readonly serviceName: string;
  /** ARN suffix of the load balancer (`app/<name>/<id>`). Required. */
  readonly loadBalancerArnSuffix: string;
  /** ARN suffix of the service's target group (`targetgroup/<name>/<id>`). Required. */
  readonly targetGroupArnSuffix: string;
  /** Fewest tasks. Required. */
  readonly minTasks: number;
  /** Most tasks. Required. */
  readonly maxTasks: number;
  /** Requests per minute per task that target tracking holds. @default 1000 */
  readonly requestsPerTargetPerMinute?: number;
  /** Percentile of TargetResponseTime that triggers a scale-out. @default "p95" */
  readonly responseTimeStatistic?: string;
  /** Seconds of response time above which the service scales out. @default 1 */
  readonly responseTimeThresholdSeconds?: number;
  /** Tasks added per response-time scale-out. @default 2 */
  readonly responseTimeScaleOutTasks?: number;
  /** Seconds between scale-outs. @default 60 */
  readonly scaleOutCooldownSeconds?: number;
  /** Seconds after scaling before a scale-in. @default 300 */
  readonly scaleInCooldownSeconds?: number;
}

/**
 * Scales one colour on demand: target tracking on requests per task, plus a step scale-out when
 * its response time percentile is too high. Application Auto Scaling follows whichever policy asks
 * for more capacity, so either one scales out, and the service scales in only when request rate
 * allows it and the response-time alarm is not firing.
 */
export class ServiceAutoscaling extends Construct {
  public readonly target: AppautoscalingTarget;
  public readonly responseTimeAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: ServiceAutoscalingProps) {
    super(scope, id);
    if (props.minTasks > props.maxTasks) throw new Error(`ServiceAutoscaling ${id}: minTasks (${props.minTasks}) must not exceed maxTasks (${props.maxTasks})`);
    const o = withDefaults(AUTOSCALING_DEFAULTS, props);
    const scaleOutCooldown = o.scaleOutCooldownSeconds;

    this.target = new AppautoscalingTarget(this, "target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: resourceNames.scalableTarget(props.clusterName, props.serviceName),
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
      dependsOn: [props.service],
    });
    const scalable = { serviceNamespace: this.target.serviceNamespace, scalableDimension: this.target.scalableDimension, resourceId: this.target.resourceId };

    new AppautoscalingPolicy(this, "request-rate", {
      name: `${props.serviceName}-request-rate`,
      policyType: "TargetTrackingScaling",
      ...scalable,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: o.requestsPerTargetPerMinute,
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: `${props.loadBalancerArnSuffix}/${props.targetGroupArnSuffix}`,
        },
        scaleOutCooldown,
        scaleInCooldown: o.scaleInCooldownSeconds,
      },
    });

    const responseTime = new AppautoscalingPolicy(this, "response-time", {
      name: `${props.serviceName}-response-time`,
      policyType: "StepScaling",
      ...scalable,
      stepScalingPolicyConfiguration: {
        adjustmentType: "ChangeInCapacity",
        cooldown: scaleOutCooldown,
        metricAggregationType: "Maximum",
        stepAdjustment: [{ metricIntervalLowerBound: "0", scalingAdjustment: o.responseTimeScaleOutTasks }],
      },
    });
    const statistic = o.responseTimeStatistic;
    this.responseTimeAlarm = new CloudwatchMetricAlarm(this, "response-time-alarm", {
      alarmName: `${props.serviceName}-scale-out-response-time`,
      alarmDescription: `Scales ${props.serviceName} out while its ${statistic} response time is above ${o.responseTimeThresholdSeconds} s. A scaling trigger, not a page.`,
      namespace: "AWS/ApplicationELB",
      metricName: "TargetResponseTime",
      dimensions: { LoadBalancer: props.loadBalancerArnSuffix, TargetGroup: props.targetGroupArnSuffix },
      extendedStatistic: statistic,
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: o.responseTimeThresholdSeconds,
      // No requests means no latency problem; an idle colour must not scale itself out.
      treatMissingData: "notBreaching",
      alarmActions: [responseTime.arn],
    });
  }
}
