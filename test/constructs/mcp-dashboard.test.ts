import { Testing } from "cdktf";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { McpDashboard } from "../../constructs/mcp-dashboard";

const colors = ["blue", "green"].map((color) => ({
  color,
  targetGroupArnSuffix: `targetgroup/${color}/1`,
  serviceName: `mcp-test-${color}`,
  errorLogMetric: { namespace: "MCPServer/Logs", metricName: `test-${color}-ErrorLogLines` },
}));

function body() {
  const synthesized = Testing.synthScope(
    (scope) => new McpDashboard(scope, "dashboard", { name: "mcp-test", region: "eu-west-1", environment: "test", colors, loadBalancerArnSuffix: "app/mcp-test/1", clusterName: "mcp-test", redisMemberClusterIds: ["c-001"], alarmArns: ["arn:a", "arn:b"] }),
  );
  const [dashboard] = Object.values(JSON.parse(synthesized).resource[CloudwatchDashboard.tfResourceType]) as { dashboard_body: string }[];
  return JSON.parse(dashboard.dashboard_body) as { widgets: { type: string; properties: { title: string; metrics?: unknown[][]; alarms?: string[] } }[] };
}

describe("McpDashboard", () => {
  it("shows blue and green side by side in every per-colour widget", () => {
    const latency = body().widgets.find((w) => w.properties.title.startsWith("Response time"))!;
    const labels = latency.properties.metrics!.map((m) => (m[m.length - 1] as { label: string }).label);
    expect(labels).toEqual(["blue p50", "blue p95", "blue p99", "green p50", "green p95", "green p99"]);
  });

  it("ends with the status of every alarm it is given", () => {
    const widgets = body().widgets;
    expect(widgets[widgets.length - 1]).toMatchObject({ type: "alarm", properties: { alarms: ["arn:a", "arn:b"] } });
  });

  it("lays widgets out on CloudWatch's 24-column grid without overlap", () => {
    const cells = body().widgets.map((w) => w as unknown as { x: number; y: number; width: number });
    for (const cell of cells) expect(cell.x + cell.width).toBeLessThanOrEqual(24);
    expect(new Set(cells.map((c) => `${c.x},${c.y}`)).size).toBe(cells.length);
  });
});
