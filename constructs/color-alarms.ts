import { ALARM_EVALUATION_DEFAULTS, COLOR_ALARM_DEFAULTS, TELEMETRY_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { resourceNames } from "../config/names";
import { CloudwatchCompositeAlarm } from "@cdktf/provider-aws/lib/cloudwatch-composite-alarm";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { metricAlarm, type AlarmDefaults } from "./alarm";

export interface ColorAlarmsProps extends AlarmDefaults {
  /** Prefix of alarm names, e.g. "mcp-production-blue". Required. */
  readonly name: string;
  /** Environment and colour: the dimensions of the server's own metrics. Required. */
  readonly environment: string;
  /** Colour watched. Required. */
  readonly color: string;
  /** ARN suffix of the load balancer. Required. */
  readonly loadBalancerArnSuffix: string;
  /** ARN suffix of the colour's target group. Required. */
  readonly targetGroupArnSuffix: string;
  /** Cluster of the colour's service. Required. */
  readonly clusterName: string;
  /** The colour's ECS service. Required. */
  readonly serviceName: string;
  /** Log group of the server container, for log-only metrics. Required. */
  readonly logGroupName: string;
  /** Namespace of the server's metrics (published by the telemetry sidecar). @default "MCPServer" */
  readonly namespace?: string;
  /** Target 5xx responses (% of requests). @default 5 */
  readonly target5xxRatePercent?: number;
  /** Requests per period below which the 5xx rate counts as 0. @default 50 */
  readonly minRequestsForErrorRate?: number;
  /** p99 TargetResponseTime in seconds. @default 2 */
  readonly p99ResponseTimeSeconds?: number;
  /** ECS CPU utilisation (%). @default 80 */
  readonly cpuPercent?: number;
  /** ECS memory utilisation (%). @default 85 */
  readonly memoryPercent?: number;
  /** Failing cache operations (%). @default 5 */
  readonly cacheErrorRatePercent?: number;
}

/** Value of mcp_circuit_breaker_state when a breaker is open (0 closed, 1 half-open). */
const BREAKER_OPEN = 2;

/**
 * Everything that says one colour is unwell, and one composite alarm, `<name>-unhealthy`, that
 * the release pipeline watches as its single gate while that colour takes traffic.
 */
export class ColorAlarms extends Construct {
  public readonly unhealthy: CloudwatchCompositeAlarm;
  public readonly alarms: CloudwatchMetricAlarm[];
  /** Metric of error log lines, counted from the server's logs. */
  public readonly errorLogMetric: { namespace: string; metricName: string };

  constructor(scope: Construct, id: string, props: ColorAlarmsProps) {
    super(scope, id);
    const { name } = props;
    const o = withDefaults({ ...COLOR_ALARM_DEFAULTS, ...ALARM_EVALUATION_DEFAULTS, namespace: TELEMETRY_DEFAULTS.namespace }, props);
    const namespace = o.namespace;
    const period = o.periodSeconds;
    const targetGroup = { LoadBalancer: props.loadBalancerArnSuffix, TargetGroup: props.targetGroupArnSuffix };
    const service = { ClusterName: props.clusterName, ServiceName: props.serviceName };
    const server = { environment: props.environment, color: props.color };
    const alb = (metricName: string, stat: string) => ({ metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: targetGroup, period, stat } });
    const own = (metricName: string) => ({ metric: { namespace, metricName, dimensions: server, period, stat: "Sum" } });
    const minRequests = o.minRequestsForErrorRate;
    const cacheOps = "FILL(hits, 0) + FILL(misses, 0) + FILL(errors, 0)";

    const errorRate = metricAlarm(this, "5xx-rate", props, {
      alarmName: `${name}-5xx-rate`,
      alarmDescription: `More than ${o.target5xxRatePercent}% of ${props.color}'s responses are 5xx (judged only above ${minRequests} requests a period).`,
      metricQuery: [
        { id: "errors", ...alb("HTTPCode_Target_5XX_Count", "Sum") },
        { id: "requests", ...alb("RequestCount", "Sum") },
        { id: "rate", label: "5xx rate (%)", returnData: true, expression: `IF(requests >= ${minRequests}, 100 * FILL(errors, 0) / requests, 0)` },
      ],
      comparisonOperator: "GreaterThanThreshold",
      threshold: o.target5xxRatePercent,
      // No requests is no evidence of errors.
      treatMissingData: "notBreaching",
    });
    const latency = metricAlarm(this, "p99-latency", props, {
      alarmName: `${name}-p99-response-time`,
      alarmDescription: `${props.color}'s p99 response time is above ${o.p99ResponseTimeSeconds} s.`,
      namespace: "AWS/ApplicationELB",
      metricName: "TargetResponseTime",
      dimensions: targetGroup,
      extendedStatistic: "p99",
      comparisonOperator: "GreaterThanThreshold",
      threshold: o.p99ResponseTimeSeconds,
      // Percentiles of a handful of requests are noise.
      evaluateLowSampleCountPercentiles: "ignore",
      treatMissingData: "notBreaching",
    });
    const unhealthyHosts = metricAlarm(this, "unhealthy-hosts", props, {
      alarmName: `${name}-unhealthy-hosts`,
      alarmDescription: `At least one ${props.color} task fails the load balancer's readiness check.`,
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: targetGroup,
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      // An idle colour scaled to zero reports nothing, and that is healthy.
      treatMissingData: "notBreaching",
    });
    const utilisation = (metricName: string, threshold: number) =>
      metricAlarm(this, metricName.toLowerCase(), props, {
        alarmName: `${name}-${metricName === "CPUUtilization" ? "cpu" : "memory"}`,
        alarmDescription: `${props.color}'s tasks average above ${threshold}% ${metricName === "CPUUtilization" ? "CPU" : "memory"}; autoscaling should be adding tasks.`,
        namespace: "AWS/ECS",
        metricName,
        dimensions: service,
        statistic: "Average",
        comparisonOperator: "GreaterThanThreshold",
        threshold,
        // No running tasks is the unhealthy-hosts alarm's business, not this one's.
        treatMissingData: "notBreaching",
      });
    const breaker = metricAlarm(this, "circuit-breaker", props, {
      alarmName: `${name}-circuit-breaker-open`,
      alarmDescription: `A circuit breaker in ${props.color}'s server is open: its upstream is failing and tools serve stale data or errors.`,
      namespace,
      metricName: "CircuitBreakerState",
      dimensions: server,
      statistic: "Maximum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: BREAKER_OPEN,
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: "notBreaching",
    });
    const cacheErrors = metricAlarm(this, "cache-errors", props, {
      alarmName: `${name}-cache-error-rate`,
      alarmDescription: `More than ${o.cacheErrorRatePercent}% of ${props.color}'s cache operations fail: Redis is unreachable or overloaded (tools still answer, uncached).`,
      metricQuery: [
        { id: "hits", ...own("CacheHits") },
        { id: "misses", ...own("CacheMisses") },
        { id: "errors", ...own("CacheErrors") },
        { id: "rate", label: "cache error rate (%)", returnData: true, expression: `IF(${cacheOps} >= 10, 100 * FILL(errors, 0) / (${cacheOps}), 0)` },
      ],
      comparisonOperator: "GreaterThanThreshold",
      threshold: o.cacheErrorRatePercent,
      treatMissingData: "notBreaching",
    });
    this.alarms = [errorRate, latency, unhealthyHosts, utilisation("CPUUtilization", o.cpuPercent), utilisation("MemoryUtilization", o.memoryPercent), breaker, cacheErrors];

    // What users feel, not what the machines feel: CPU and memory page through their own alarms.
    this.unhealthy = new CloudwatchCompositeAlarm(this, "unhealthy", {
      alarmName: resourceNames.unhealthyAlarm(name),
      alarmDescription: `${props.color} is unhealthy: 5xx rate, p99 response time, unhealthy targets or an open circuit breaker. The release pipeline's gate.`,
      alarmRule: [errorRate, latency, unhealthyHosts, breaker].map((alarm) => `ALARM(${JSON.stringify(alarm.alarmName)})`).join(" OR "),
      alarmActions: [props.topicArn],
      okActions: [props.topicArn],
    });

    this.errorLogMetric = { namespace: `${namespace}/Logs`, metricName: `${props.environment}-${props.color}-ErrorLogLines` };
    // pino writes level 50 (error) and 60 (fatal); only the logs know how many.
    new CloudwatchLogMetricFilter(this, "error-logs", {
      name: `${name}-error-log-lines`,
      logGroupName: props.logGroupName,
      pattern: "{ $.level >= 50 }",
      metricTransformation: { namespace: this.errorLogMetric.namespace, name: this.errorLogMetric.metricName, value: "1", defaultValue: "0" },
    });
  }
}
