import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAllEnvironments, loadEnvironment } from "../config/load";
import { buildApp, synthWarnings } from "../stacks/app";
import { resourcesOf, synthStack, synthStackText } from "./support/fixtures";

// The edge of every environment: the web ACL on the load balancer, and in production JWT auth
// with the resource URL fixed from the configured host name. (Its body rule against the server's
// own limit is in test/image-contract.test.ts, which reads the limit through the server's loader.)
describe.each(["staging", "production"] as const)("the edge of %s", (name) => {
  const json = synthStack(name);

  it("associates the web ACL with the load balancer and logs it to an aws-waf-logs- group", () => {
    const [aclId] = Object.keys(resourcesOf(json, "aws_wafv2_web_acl"));
    const [lbId] = Object.keys(resourcesOf(json, "aws_lb"));
    expect(Object.values(resourcesOf(json, "aws_wafv2_web_acl_association"))).toEqual([{ resource_arn: `\${aws_lb.${lbId}.arn}`, web_acl_arn: `\${aws_wafv2_web_acl.${aclId}.arn}` }]);
    const [logging] = Object.values(resourcesOf(json, "aws_wafv2_web_acl_logging_configuration"));
    const group = Object.entries(resourcesOf(json, "aws_cloudwatch_log_group")).find(([, g]) => String(g.name).startsWith("aws-waf-logs-"));
    expect(logging.log_destination_configs).toEqual([`\${aws_cloudwatch_log_group.${group![0]}.arn}`]);
  });
});

describe("authentication in production", () => {
  const json = synthStack("production");
  const { config } = loadEnvironment("production");

  it("runs both colours in JWT mode against the configured issuer, with the resource URL from the host name", () => {
    const tasks = Object.values(resourcesOf(json, "aws_ecs_task_definition"));
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      const [server] = JSON.parse(String(task.container_definitions)) as { name: string; environment: { name: string; value: string }[] }[];
      const env = Object.fromEntries(server.environment.map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        AUTH_MODE: "jwt",
        JWT_ISSUER: config.auth!.issuer,
        JWT_AUDIENCE: config.auth!.audience,
        JWKS_URL: config.auth!.jwksUrl,
        JWT_REQUIRED_SCOPES: "mcp:tools",
        MCP_RESOURCE_URL: `https://${config.loadBalancer.hostName}/mcp`,
      });
    }
  });

  it("makes the verifier role, which may read the client secret and nothing else", () => {
    const roles = Object.values(resourcesOf(json, "aws_iam_role")).filter((r) => r.name === "mcp-production-verifier");
    expect(roles).toHaveLength(1);
    const documents = Object.values(json.data?.aws_iam_policy_document ?? {});
    const grants = documents.flatMap((d) => d.statement as { sid?: string; actions?: string[]; resources?: string[] }[]).filter((s) => s.actions?.includes("secretsmanager:GetSecretValue"));
    expect(grants.filter((s) => s.resources?.includes(config.auth!.verifier.clientSecretArn))).toEqual([
      { sid: "ReadVerifierClientSecret", actions: ["secretsmanager:GetSecretValue"], resources: [config.auth!.verifier.clientSecretArn] },
    ]);
  });
});

describe("turning the firewall off", () => {
  const outdir = mkdtempSync(join(tmpdir(), "edge-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("synthesizes no web ACL and warns at synth, naming the risk", () => {
    const environments = loadAllEnvironments().map((e) => (e.config.name === "staging" ? { ...e, config: { ...e.config, firewall: { ...e.config.firewall, enabled: false } } } : e));
    buildApp(outdir, {}, environments).synth();
    expect(synthWarnings(outdir)).toEqual([expect.stringMatching(/^staging: McpDeployment deployment: no WAF in front of the load balancer, so \/mcp is open to request floods/)]);
    const staging = JSON.parse(synthStackText("staging", { ...loadEnvironment("staging"), config: environments.find((e) => e.config.name === "staging")!.config }));
    expect(staging.resource.aws_wafv2_web_acl).toBeUndefined();
  });
});
