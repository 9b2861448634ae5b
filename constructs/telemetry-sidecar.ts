import { SERVICE_DEFAULTS, TELEMETRY_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { resourceNames } from "../config/names";
import type { PolicyStatement } from "./iam";
import type { ContainerDefinition, Sidecar } from "./mcp-service";

export interface TelemetrySidecarProps {
  /** Prefix of log group names (`/ecs/<name>/<color>/...`). Required. */
  readonly name: string;
  /** Environment, a dimension of every server metric. Required. */
  readonly environment: string;
  /** Colour of the task, a dimension of every server metric. Required. */
  readonly color: string;
  /** Region of X-Ray and CloudWatch. Required. */
  readonly region: string;
  /** Port of the server's Prometheus endpoint in the same task. @default 9464 */
  readonly metricsPort?: number;
  /** Collector image, pinned. @default "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3" */
  readonly image?: string;
  /** CloudWatch namespace of the server's metrics. @default "MCPServer" */
  readonly namespace?: string;
  /** Seconds between scrapes. @default 30 */
  readonly scrapeIntervalSeconds?: number;
  /** Days to keep the collector's logs and the EMF records. @default 30 */
  readonly logRetentionDays?: number;
  /** KMS key (ARN) that encrypts the collector's log groups; its policy must let logs.<region>.amazonaws.com use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
}

/** The server's Prometheus names and the CloudWatch names alarms and the dashboard use. */
export const SERVER_METRICS = {
  RequestDuration: "mcp_request_duration_seconds",
  CacheHits: "mcp_cache_hits_total",
  CacheMisses: "mcp_cache_misses_total",
  CacheErrors: "mcp_cache_errors_total",
  CircuitBreakerState: "mcp_circuit_breaker_state",
  CircuitBreakerRejections: "mcp_circuit_breaker_rejections_total",
} as const;
export type ServerMetric = keyof typeof SERVER_METRICS;

/** Dimensions of every server metric in CloudWatch. */
export const SERVER_METRIC_DIMENSIONS = ["environment", "color"] as const;

/** Where the server sends OTLP traces: the collector in the same task. */
export const OTLP_ENDPOINT = "http://127.0.0.1:4318";

/**
 * An AWS Distro for OpenTelemetry collector in each task: it scrapes the server's /metrics and
 * publishes them to CloudWatch as embedded metric format records, and forwards OTLP traces to X-Ray.
 */
/** The collector's /tmp: its own volume, not the server's, so neither can fill the other's. */
const COLLECTOR_TMP_VOLUME = "otel-collector-tmp";

export class TelemetrySidecar extends Construct implements Sidecar {
  /** The container to add to the task definition. */
  public readonly container: ContainerDefinition;
  /** Task role permissions the collector needs, and no more. */
  public readonly taskRoleStatements: PolicyStatement[];
  /** Where the server sends its traces: the collector's OTLP/HTTP receiver in the same task. */
  public readonly environment = { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_ENDPOINT };
  public readonly volumes = [COLLECTOR_TMP_VOLUME];
  /** The collector configuration (YAML), generated here rather than pasted. */
  public readonly config: string;
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: TelemetrySidecarProps) {
    super(scope, id);
    const o = withDefaults({ ...TELEMETRY_DEFAULTS, metricsPort: SERVICE_DEFAULTS.metricsPort, logRetentionDays: SERVICE_DEFAULTS.logRetentionDays }, props);
    const metricsPort = o.metricsPort;
    this.namespace = o.namespace;
    const retentionInDays = o.logRetentionDays;
    // The literal name, not a token, so the synthesized collector config reads as it will run.
    const emfLogGroup = resourceNames.sidecarLogGroup(props.name, props.color, "metrics");
    const emfLogs = new CloudwatchLogGroup(this, "emf", { name: emfLogGroup, retentionInDays, kmsKeyId: props.logsKmsKeyArn });
    const collectorLogs = new CloudwatchLogGroup(this, "logs", { name: resourceNames.sidecarLogGroup(props.name, props.color, "collector"), retentionInDays, kmsKeyId: props.logsKmsKeyArn });

    this.config = collectorConfig({ ...props, metricsPort, namespace: this.namespace, emfLogGroup, scrapeIntervalSeconds: o.scrapeIntervalSeconds });
    this.container = {
      name: "otel-collector",
      image: o.image,
      // Telemetry must never take the server down with it.
      essential: false,
      // Read-only like the server's: the collector keeps its state in memory (no file_storage
      // extension, no WAL), and /tmp, the one place Go's libraries may write, is its own empty volume.
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: COLLECTOR_TMP_VOLUME, containerPath: "/tmp", readOnly: false }],
      environment: [{ name: "AOT_CONFIG_CONTENT", value: this.config }],
      memoryReservation: 128,
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": collectorLogs.name, "awslogs-region": props.region, "awslogs-stream-prefix": "collector", mode: "non-blocking", "max-buffer-size": "4m" },
      },
    };
    this.taskRoleStatements = [
      { actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], resources: [emfLogs.arn, `${emfLogs.arn}:*`] },
      // X-Ray's write and sampling APIs have no resource-level permissions.
      { actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"], resources: ["*"] },
    ];
  }
}

interface CollectorConfigOptions {
  environment: string;
  color: string;
  region: string;
  metricsPort: number;
  namespace: string;
  emfLogGroup: string;
  scrapeIntervalSeconds: number;
}

/** The collector's configuration: Prometheus scrape -> CloudWatch EMF, OTLP -> X-Ray. */
export function collectorConfig(options: CollectorConfigOptions): string {
  const renames = Object.entries(SERVER_METRICS).map(([cloudWatchName, prometheusName]) => ({
    // Some collector versions drop the `_total` suffix of counters; match the name either way.
    include: `^${prometheusName.replace(/_total$/, "")}(_total)?$`,
    match_type: "regexp",
    action: "update",
    new_name: cloudWatchName,
  }));
  return stringify({
    extensions: { health_check: { endpoint: "127.0.0.1:13133" } },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: "127.0.0.1:4317" }, http: { endpoint: "127.0.0.1:4318" } } },
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: "mcp-server",
              scrape_interval: `${options.scrapeIntervalSeconds}s`,
              static_configs: [{ targets: [`127.0.0.1:${options.metricsPort}`], labels: { environment: options.environment, color: options.color } }],
            },
          ],
        },
      },
    },
    processors: {
      metricstransform: { transforms: renames },
      "batch/metrics": { timeout: "60s" },
      "batch/traces": { timeout: "1s", send_batch_size: 50 },
      resourcedetection: { detectors: ["env", "ecs"], timeout: "2s", override: false },
    },
    exporters: {
      awsemf: {
        region: options.region,
        namespace: options.namespace,
        log_group_name: options.emfLogGroup,
        log_stream_name: "{TaskId}",
        dimension_rollup_option: "NoDimensionRollup",
        metric_declarations: [{ dimensions: [[...SERVER_METRIC_DIMENSIONS]], metric_name_selectors: Object.keys(SERVER_METRICS).map((name) => `^${name}$`) }],
      },
      awsxray: { region: options.region, indexed_attributes: ["deployment.color", "service.version"] },
    },
    service: {
      extensions: ["health_check"],
      pipelines: {
        metrics: { receivers: ["prometheus"], processors: ["metricstransform", "resourcedetection", "batch/metrics"], exporters: ["awsemf"] },
        traces: { receivers: ["otlp"], processors: ["resourcedetection", "batch/traces"], exporters: ["awsxray"] },
      },
    },
  });
}
