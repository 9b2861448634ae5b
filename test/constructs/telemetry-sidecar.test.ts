import { Testing } from "cdktf";
import { parse } from "yaml";
import { TelemetrySidecar, type TelemetrySidecarProps } from "../../constructs/telemetry-sidecar";

const props: TelemetrySidecarProps = { name: "mcp-test", environment: "test", color: "blue", region: "eu-west-1", metricsPort: 9555 };

function sidecar(overrides: Partial<TelemetrySidecarProps> = {}): TelemetrySidecar {
  let built: TelemetrySidecar | undefined;
  Testing.synthScope((scope) => {
    built = new TelemetrySidecar(scope, "telemetry", { ...props, ...overrides });
  });
  return built!;
}

describe("TelemetrySidecar", () => {
  it("generates a collector config that parses as YAML and scrapes the given port with colour labels", () => {
    const config = parse(sidecar().config);
    expect(config.receivers.prometheus.config.scrape_configs).toEqual([
      { job_name: "mcp-server", scrape_interval: "30s", static_configs: [{ targets: ["127.0.0.1:9555"], labels: { environment: "test", color: "blue" } }] },
    ]);
  });

  it("publishes the server's metrics to CloudWatch via EMF under their CloudWatch names, by environment and colour", () => {
    const config = parse(sidecar({ namespace: "Custom" }).config);
    expect(config.exporters.awsemf).toMatchObject({ namespace: "Custom", region: "eu-west-1", log_group_name: "/ecs/mcp-test/blue/metrics" });
    expect(config.exporters.awsemf.metric_declarations[0].dimensions).toEqual([["environment", "color"]]);
    const renames = config.processors.metricstransform.transforms.map((t: { include: string; new_name: string }) => [t.new_name, t.include]);
    expect(renames).toContainEqual(["CacheHits", "^mcp_cache_hits(_total)?$"]);
    expect(renames).toContainEqual(["RequestDuration", "^mcp_request_duration_seconds(_total)?$"]);
    expect(config.service.pipelines.metrics).toEqual({ receivers: ["prometheus"], processors: ["metricstransform", "resourcedetection", "batch/metrics"], exporters: ["awsemf"] });
  });

  it("receives OTLP only on loopback and exports traces to X-Ray", () => {
    const config = parse(sidecar().config);
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: "127.0.0.1:4317" }, http: { endpoint: "127.0.0.1:4318" } });
    expect(config.service.pipelines.traces.exporters).toEqual(["awsxray"]);
  });

  it("is a non-essential container, so telemetry can never stop the server", () => {
    expect(sidecar().container).toMatchObject({ name: "otel-collector", essential: false, image: "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3" });
  });

  it("asks for X-Ray writes and its own log group, nothing else", () => {
    const actions = sidecar().taskRoleStatements.flatMap((s) => s.actions ?? []);
    expect(actions.sort()).toEqual(
      ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents", "xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"].sort(),
    );
  });
});
