import { TELEMETRY_DEFAULTS } from "../config/defaults";
import { Construct } from "constructs";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import type { EdgeFirewallMetrics } from "./edge-firewall";

export interface DashboardColor {
  /** Colour name. */
  readonly color: string;
  /** ARN suffix of the colour's target group. */
  readonly targetGroupArnSuffix: string;
  /** Name of the colour's ECS service. */
  readonly serviceName: string;
  /** Metric counting the colour's error log lines. */
  readonly errorLogMetric: { namespace: string; metricName: string };
}

export interface McpDashboardProps {
  /** Dashboard name. Required. */
  readonly name: string;
  /** Region of every metric. Required. */
  readonly region: string;
  /** Environment, a dimension of the server's metrics. Required. */
  readonly environment: string;
  /** The colours, shown side by side. Required. */
  readonly colors: DashboardColor[];
  /** ARN suffix of the load balancer. Required. */
  readonly loadBalancerArnSuffix: string;
  /** Cluster of both services. Required. */
  readonly clusterName: string;
  /** Redis member cluster ids. Required. */
  readonly redisMemberClusterIds: string[];
  /** ARNs of the alarms in the status widget. Required. */
  readonly alarmArns: string[];
  /** The web ACL's metrics: requests it allowed, blocked and counted, and blocks by rule. @default none (no WAF widgets) */
  readonly firewall?: EdgeFirewallMetrics;
  /** Namespace of the server's metrics. @default "MCPServer" */
  readonly namespace?: string;
}

type MetricLine = (string | Record<string, unknown>)[];
interface Widget {
  title: string;
  metrics: MetricLine[];
  yAxis?: Record<string, unknown>;
}

/** One CloudWatch dashboard per environment: blue and green side by side, the cache, and every alarm. */
export class McpDashboard extends Construct {
  public readonly dashboard: CloudwatchDashboard;
  /** Console URL of the dashboard. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: McpDashboardProps) {
    super(scope, id);
    const namespace = props.namespace ?? TELEMETRY_DEFAULTS.namespace;
    const lb = props.loadBalancerArnSuffix;
    const perColor = (line: (c: DashboardColor, i: number) => MetricLine[]) => props.colors.flatMap(line);
    const alb = (c: DashboardColor, metric: string, options: Record<string, unknown>): MetricLine => [
      "AWS/ApplicationELB", metric, "LoadBalancer", lb, "TargetGroup", c.targetGroupArnSuffix, { label: `${c.color}`, ...options },
    ];
    const server = (c: DashboardColor, metric: string, options: Record<string, unknown>): MetricLine => [
      namespace, metric, "environment", props.environment, "color", c.color, options,
    ];

    const widgets: Widget[] = [
      { title: "Requests per minute", metrics: perColor((c) => [alb(c, "RequestCount", { stat: "Sum" })]) },
      {
        title: "Response time p50 / p95 / p99 (s)",
        metrics: perColor((c) => ["p50", "p95", "p99"].map((stat) => alb(c, "TargetResponseTime", { stat, label: `${c.color} ${stat}` }))),
      },
      {
        title: "Target 5xx rate (%)",
        metrics: perColor((c, i) => [
          alb(c, "HTTPCode_Target_5XX_Count", { stat: "Sum", id: `e${i}`, visible: false }),
          alb(c, "RequestCount", { stat: "Sum", id: `r${i}`, visible: false }),
          [{ expression: `100 * FILL(e${i}, 0) / r${i}`, label: c.color, id: `rate${i}` }],
        ]),
        yAxis: { left: { min: 0 } },
      },
      { title: "Healthy targets", metrics: perColor((c) => [alb(c, "HealthyHostCount", { stat: "Minimum" }), alb(c, "UnHealthyHostCount", { stat: "Maximum", label: `${c.color} unhealthy` })]) },
      {
        title: "Running tasks",
        metrics: perColor((c) => [["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", props.clusterName, "ServiceName", c.serviceName, { stat: "Average", label: c.color }]]),
      },
      {
        title: "CPU and memory (%)",
        metrics: perColor((c) => ["CPUUtilization", "MemoryUtilization"].map((metric) => ["AWS/ECS", metric, "ClusterName", props.clusterName, "ServiceName", c.serviceName, { stat: "Average", label: `${c.color} ${metric.replace("Utilization", "")}` }])),
        yAxis: { left: { min: 0, max: 100 } },
      },
      {
        title: "Cache hit rate (%)",
        metrics: perColor((c, i) => [
          server(c, "CacheHits", { stat: "Sum", id: `h${i}`, visible: false }),
          server(c, "CacheMisses", { stat: "Sum", id: `m${i}`, visible: false }),
          [{ expression: `100 * h${i} / (h${i} + m${i})`, label: c.color, id: `hit${i}` }],
        ]),
        yAxis: { left: { min: 0, max: 100 } },
      },
      // CloudWatch refuses a widget with no metrics: a deployment without Redis has no Redis widget.
      ...(props.redisMemberClusterIds.length > 0
        ? [
            {
              title: "Redis memory (%) and evictions",
              metrics: props.redisMemberClusterIds.flatMap((node) => [
                ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", node, { stat: "Maximum", label: `${node} memory %` }],
                ["AWS/ElastiCache", "Evictions", "CacheClusterId", node, { stat: "Sum", label: `${node} evictions`, yAxis: "right" }],
              ]),
            },
          ]
        : []),
      { title: "Circuit breaker (0 closed, 1 half-open, 2 open)", metrics: perColor((c) => [server(c, "CircuitBreakerState", { stat: "Maximum", label: c.color })]), yAxis: { left: { min: 0, max: 2 } } },
      { title: "Server request duration (s, from /metrics)", metrics: perColor((c) => [server(c, "RequestDuration", { stat: "Average", label: `${c.color} average` })]) },
      { title: "Error log lines", metrics: perColor((c) => [[c.errorLogMetric.namespace, c.errorLogMetric.metricName, { stat: "Sum", label: c.color }]]) },
      ...(props.firewall ? firewallWidgets(props.firewall) : []),
    ];

    const body = {
      widgets: [
        ...widgets.map((w, i) => ({
          type: "metric",
          x: (i % 3) * 8,
          y: Math.floor(i / 3) * 6,
          width: 8,
          height: 6,
          properties: { title: w.title, region: props.region, view: "timeSeries", stacked: false, period: 60, metrics: w.metrics, ...(w.yAxis ? { yAxis: w.yAxis } : {}) },
        })),
        { type: "alarm", x: 0, y: Math.ceil(widgets.length / 3) * 6, width: 24, height: 6, properties: { title: "Alarms", alarms: props.alarmArns, sortBy: "stateUpdatedTimestamp" } },
      ],
    };
    this.dashboard = new CloudwatchDashboard(this, "dashboard", { dashboardName: props.name, dashboardBody: JSON.stringify(body) });
    this.url = `https://${props.region}.console.aws.amazon.com/cloudwatch/home?region=${props.region}#dashboards:name=${props.name}`;
  }
}

/** What the web ACL let through and refused, and which of its rules refused it. */
function firewallWidgets(waf: EdgeFirewallMetrics): Widget[] {
  const { namespace, dimensions } = waf;
  const line = (metric: string, rule: string, label: string): MetricLine => [namespace, metric, "WebACL", dimensions.WebACL, "Region", dimensions.Region, "Rule", rule, { stat: "Sum", label }];
  return [
    { title: "WAF requests: allowed, blocked, counted", metrics: waf.metricNames.map((metric) => line(metric, dimensions.Rule, metric.replace("Requests", "").toLowerCase())) },
    { title: "WAF blocked requests by rule", metrics: Object.entries(waf.ruleMetricNames).map(([rule, metricName]) => line("BlockedRequests", metricName, rule)) },
  ];
}
