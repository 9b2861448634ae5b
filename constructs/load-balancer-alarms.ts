import { LOAD_BALANCER_ALARM_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { metricAlarm, type AlarmDefaults } from "./alarm";

export interface LoadBalancerAlarmsProps extends AlarmDefaults {
  /** Prefix of alarm names. Required. */
  readonly name: string;
  /** ARN suffix of the load balancer. Required. */
  readonly loadBalancerArnSuffix: string;
  /** 5xx responses the load balancer itself generates per period. @default 10 */
  readonly elb5xxCount?: number;
  /** Connections rejected per period (the load balancer at its connection limit). @default 0 */
  readonly rejectedConnections?: number;
}

/** Problems of the load balancer itself, whichever colour is live. */
export class LoadBalancerAlarms extends Construct {
  public readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: LoadBalancerAlarmsProps) {
    super(scope, id);
    const o = withDefaults(LOAD_BALANCER_ALARM_DEFAULTS, props);
    const dimensions = { LoadBalancer: props.loadBalancerArnSuffix };
    this.alarms = [
      metricAlarm(this, "elb-5xx", props, {
        alarmName: `${props.name}-alb-5xx`,
        alarmDescription: "The load balancer answers 5xx itself: no healthy target (503), targets closing connections early (502) or timing out (504).",
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_ELB_5XX_Count",
        dimensions,
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: o.elb5xxCount,
        // The load balancer publishes this metric only when it is not zero.
        treatMissingData: "notBreaching",
      }),
      metricAlarm(this, "rejected-connections", props, {
        alarmName: `${props.name}-alb-rejected-connections`,
        alarmDescription: "The load balancer rejected connections because it reached its connection limit.",
        namespace: "AWS/ApplicationELB",
        metricName: "RejectedConnectionCount",
        dimensions,
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: o.rejectedConnections,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: "notBreaching",
      }),
    ];
  }
}
