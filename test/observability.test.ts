import { COLORS } from "../config/release-manifest";
import { namePrefix, resourceNames } from "../config/names";
import { parse } from "yaml";
import { resourcesOf, synthStack, type TerraformJson } from "./support/fixtures";

type Alarm = {
  alarm_name: string;
  namespace?: string;
  metric_name?: string;
  dimensions?: Record<string, string>;
  alarm_actions?: string[];
  ok_actions?: string[];
  treat_missing_data?: string;
  metric_query?: { id: string; expression?: string; metric?: { namespace: string; metric_name: string; dimensions: Record<string, string> } }[];
};

// Alarms, scaling and telemetry as wired into each environment's stack.
describe.each(["staging", "production"] as const)("observability of %s", (name) => {
  const json: TerraformJson = synthStack(name);
  const alarms = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")) as Alarm[];
  const composites = Object.values(resourcesOf(json, "aws_cloudwatch_composite_alarm")) as { alarm_name: string; alarm_rule: string; alarm_actions: string[] }[];
  const ids = (type: string) => Object.keys(resourcesOf(json, type));
  const ref = (type: string, attribute: string) => ids(type).map((id) => `\${${type}.${id}.${attribute}}`);
  const tasks = Object.values(resourcesOf(json, "aws_ecs_task_definition")).map((t) => JSON.parse(String(t.container_definitions)));
  const replicationGroup = Object.values(resourcesOf(json, "aws_elasticache_replication_group"))[0];

  /** Where each dimension value must come from: a resource of this very stack, or a name it gives one. */
  const known: Record<string, string[]> = {
    LoadBalancer: ref("aws_lb", "arn_suffix"),
    TargetGroup: ref("aws_lb_target_group", "arn_suffix"),
    ClusterName: ref("aws_ecs_cluster", "name"),
    ServiceName: Object.values(resourcesOf(json, "aws_ecs_service")).map((s) => String(s.name)),
    CacheClusterId: Array.from({ length: Number(replicationGroup.num_cache_clusters) }, (_, i) => `${replicationGroup.replication_group_id}-00${i + 1}`),
    environment: [name],
    color: ["blue", "green"],
    // The web ACL's metrics: its name, its region, and "ALL" for the whole ACL.
    WebACL: Object.values(resourcesOf(json, "aws_wafv2_web_acl")).map((acl) => String(acl.name)),
    Region: [json.provider.aws[0].region as string],
    Rule: ["ALL"],
  };
  const metricsOf = (alarm: Alarm) =>
    alarm.metric_query ? alarm.metric_query.flatMap((q) => (q.metric ? [q.metric] : [])) : [{ namespace: alarm.namespace!, metric_name: alarm.metric_name!, dimensions: alarm.dimensions ?? {} }];

  it("sends every alarm, and its recovery, to the environment's encrypted topic", () => {
    const topic = ref("aws_sns_topic", "arn");
    expect(topic).toHaveLength(1);
    expect(Object.values(resourcesOf(json, "aws_sns_topic"))[0].kms_master_key_id).toMatch(/aws_kms_key/);
    for (const alarm of [...alarms, ...composites]) {
      expect(alarm.alarm_actions?.length).toBeGreaterThan(0);
      const scalingTrigger = alarm.alarm_actions!.every((a) => a.includes("aws_appautoscaling_policy"));
      if (!scalingTrigger) expect({ name: alarm.alarm_name, actions: alarm.alarm_actions, ok: (alarm as Alarm).ok_actions }).toEqual({ name: alarm.alarm_name, actions: topic, ok: topic });
    }
  });

  it("points every alarm's metric at resources of this stack", () => {
    expect(alarms.length).toBeGreaterThan(20);
    for (const alarm of alarms) {
      for (const metric of metricsOf(alarm)) {
        expect(metric.namespace).toMatch(/^(AWS\/ApplicationELB|AWS\/ECS|AWS\/ElastiCache|AWS\/WAFV2|MCPServer)$/);
        for (const [dimension, value] of Object.entries(metric.dimensions)) {
          expect({ alarm: alarm.alarm_name, dimension, known: known[dimension]?.includes(value) }).toEqual({ alarm: alarm.alarm_name, dimension, known: true });
        }
      }
    }
  });

  it("decides how every alarm treats missing data", () => {
    for (const alarm of alarms) expect(["breaching", "notBreaching", "ignore", "missing"]).toContain(alarm.treat_missing_data);
  });

  it("has per-colour alarms for 5xx rate, p99 latency, unhealthy hosts, CPU, memory, breaker and cache errors", () => {
    for (const color of COLORS) {
      const names = alarms.map((a) => a.alarm_name).filter((n) => n.startsWith(`${resourceNames.service(namePrefix(name), color)}-`));
      expect(names.sort()).toEqual(
        ["5xx-rate", "cache-error-rate", "circuit-breaker-open", "cpu", "memory", "p99-response-time", "scale-out-response-time", "unhealthy-hosts"].map((s) => `${resourceNames.service(namePrefix(name), color)}-${s}`),
      );
    }
  });

  it("gates each colour with one composite alarm over what users feel", () => {
    expect(composites.map((c) => c.alarm_name).sort()).toEqual(COLORS.map((c) => resourceNames.unhealthyAlarm(resourceNames.service(namePrefix(name), c))));
    for (const composite of composites) expect(composite.alarm_rule.match(/ALARM\(/g)).toHaveLength(4);
  });

  it("judges the 5xx rate only above a minimum request count", () => {
    const rate = alarms.find((a) => a.alarm_name === `mcp-${name}-blue-5xx-rate`)!;
    expect(rate.metric_query!.map((q) => q.metric?.metric_name ?? q.expression)).toEqual(["HTTPCode_Target_5XX_Count", "RequestCount", "IF(requests >= 50, 100 * FILL(errors, 0) / requests, 0)"]);
  });

  it("scales each colour on request rate and on response time", () => {
    const policies = Object.values(resourcesOf(json, "aws_appautoscaling_policy")) as Record<string, unknown>[];
    const tracking = policies.filter((p) => p.policy_type === "TargetTrackingScaling");
    const steps = policies.filter((p) => p.policy_type === "StepScaling");
    expect(tracking.map((p) => (p.target_tracking_scaling_policy_configuration as { predefined_metric_specification: { predefined_metric_type: string } }).predefined_metric_specification.predefined_metric_type)).toEqual(["ALBRequestCountPerTarget", "ALBRequestCountPerTarget"]);
    expect(steps).toHaveLength(2);
    const scaleOut = alarms.filter((a) => a.alarm_name.endsWith("scale-out-response-time"));
    expect(scaleOut.map((a) => a.metric_name)).toEqual(["TargetResponseTime", "TargetResponseTime"]);
  });

  it("lets the idle colour sit at the idle minimum and the live colour at the minimum", () => {
    const targets = Object.values(resourcesOf(json, "aws_appautoscaling_target")) as { resource_id: string; min_capacity: number }[];
    const minimums = Object.fromEntries(targets.map((t) => [t.resource_id.split("-").pop(), t.min_capacity]));
    expect(minimums).toEqual(name === "staging" ? { blue: 1, green: 0 } : { blue: 3, green: 1 });
  });

  it("runs a collector that scrapes the port the server's task definition exposes", () => {
    for (const containers of tasks) {
      const [server, collector] = containers;
      const metricsPort = server.portMappings.find((p: { name: string }) => p.name === "metrics").containerPort;
      const config = parse(collector.environment.find((e: { name: string }) => e.name === "AOT_CONFIG_CONTENT").value);
      const scrape = config.receivers.prometheus.config.scrape_configs[0];
      expect(scrape.static_configs[0].targets).toEqual([`127.0.0.1:${metricsPort}`]);
      expect(scrape.static_configs[0].labels.color).toBe(server.environment.find((e: { name: string }) => e.name === "DEPLOYMENT_COLOR").value);
      expect(Object.keys(config.service.pipelines)).toEqual(["metrics", "traces"]);
      expect(server.environment).toContainEqual({ name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://127.0.0.1:4318" });
    }
  });

  it("publishes a dashboard and names its URL as an output", () => {
    const dashboard = Object.values(resourcesOf(json, "aws_cloudwatch_dashboard"))[0];
    const body = JSON.parse(String(dashboard.dashboard_body));
    expect(body.widgets.map((w: { properties: { title: string } }) => w.properties.title)).toEqual(expect.arrayContaining(["Requests per minute", "Response time p50 / p95 / p99 (s)", "Target 5xx rate (%)", "Healthy targets", "Running tasks", "Cache hit rate (%)", "Alarms"]));
    expect(body.widgets.find((w: { type: string }) => w.type === "alarm").properties.alarms).toHaveLength(alarms.length - 2 + composites.length);
    expect(json.output?.dashboard_url.value).toBe(`https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=mcp-${name}`);
  });
});
