import { Testing } from "cdktf";
import { McpDeployment, type McpDeploymentProps } from "../../constructs/mcp-deployment";

const image = `210987654321.dkr.ecr.eu-central-1.amazonaws.com/mcp-server@sha256:${"0".repeat(64)}`;
const SECRET = "arn:aws:secretsmanager:eu-central-1:210987654321:secret:mcp-lib/redis-token-AbCdEf";

const props: McpDeploymentProps = {
  environment: "lib",
  region: "eu-central-1",
  accountId: "210987654321",
  network: { vpcId: "vpc-0123456789abcdef0", vpcCidr: "10.40.0.0/16", publicSubnetIds: ["subnet-a1", "subnet-a2"], privateSubnetIds: ["subnet-b1", "subnet-b2"] },
  release: { environment: "lib", stable: "blue", colors: { blue: { image, version: "1.0.0", weight: 100 }, green: { image, version: "1.0.0", weight: 0 } } },
  loadBalancer: { testListenerCidrs: ["198.51.100.0/24"], deletionProtection: false },
  serverEnvironment: { UPSTREAM_URL: "https://api.example.org" },
};

type Json = { resource: Record<string, Record<string, Record<string, unknown>>>; data: Record<string, Record<string, { statement: { actions?: string[] }[] }>> };
const synth = (overrides: Partial<McpDeploymentProps> = {}): Json => JSON.parse(Testing.synthScope((scope) => new McpDeployment(scope, "mcp", { ...props, ...overrides })));
const servers = (json: Json) =>
  Object.values(json.resource.aws_ecs_task_definition).map((t) => (JSON.parse(String(t.container_definitions)) as { environment: { name: string }[]; secrets: { name: string; valueFrom: string }[] }[])[0]);

describe("McpDeployment", () => {
  it("by default puts a web ACL on the load balancer and encrypts every log group with its own key", () => {
    const json = synth();
    expect(Object.keys(json.resource.aws_wafv2_web_acl_association)).toHaveLength(1);
    const [keyId] = Object.keys(json.resource.aws_kms_key).filter((id) => String(json.resource.aws_kms_key[id].description).includes("log groups"));
    const groups = Object.values(json.resource.aws_cloudwatch_log_group);
    expect(groups.length).toBeGreaterThan(4);
    for (const group of groups) expect([group.name, group.kms_key_id]).toEqual([group.name, `\${aws_kms_key.${keyId}.arn}`]);
  });

  it("with encryptLogs false leaves log groups on CloudWatch's own encryption and makes no key", () => {
    const json = synth({ encryptLogs: false });
    for (const group of Object.values(json.resource.aws_cloudwatch_log_group)) expect(group.kms_key_id).toBeUndefined();
  });

  it("with a Redis AUTH token, hands the server the token from Secrets Manager and signs nothing in with IAM", () => {
    const json = synth({ redis: { replicas: 0, authToken: { value: "0123456789abcdef-token", secretArn: SECRET } } });
    for (const server of servers(json)) {
      expect(server.secrets).toContainEqual({ name: "REDIS_AUTH_TOKEN", valueFrom: SECRET });
      expect(server.environment.map((e) => e.name)).not.toEqual(expect.arrayContaining(["REDIS_IAM_USER"]));
    }
    const actions = Object.values(json.data.aws_iam_policy_document).flatMap((d) => d.statement.flatMap((s) => s.actions ?? []));
    expect(actions).not.toContain("elasticache:Connect");
    expect(json.resource.aws_elasticache_user).toBeUndefined();
  });
});
