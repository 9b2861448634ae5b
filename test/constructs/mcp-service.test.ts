import { Testing } from "cdktf";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { McpService, ecrRepositoryArn, type McpServiceProps } from "../../constructs/mcp-service";

const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mcp-server@sha256:${"b".repeat(64)}`;
const props: McpServiceProps = {
  name: "mcp-test",
  color: "green",
  region: "eu-west-1",
  clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/mcp-test",
  vpcId: "vpc-1",
  vpcCidr: "10.0.0.0/16",
  subnetIds: ["subnet-a", "subnet-b"],
  targetGroupArn: "arn:tg-green",
  loadBalancerSecurityGroupId: "sg-alb",
  image: IMAGE,
  version: "1.2.3",
  environment: { LOG_LEVEL: "info" },
  secrets: { REDIS_AUTH_TOKEN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis" },
  vpcEgressPorts: [6379],
};

const synth = (overrides: Partial<McpServiceProps> = {}) => Testing.synthScope((scope) => new McpService(scope, "service", { ...props, ...overrides }));
const json = (overrides: Partial<McpServiceProps> = {}) => JSON.parse(synth(overrides));

function container(overrides: Partial<McpServiceProps> = {}) {
  const [task] = Object.values(json(overrides).resource[EcsTaskDefinition.tfResourceType]) as { container_definitions: string }[];
  return JSON.parse(task.container_definitions)[0];
}

function policyStatements(synthesized: ReturnType<typeof json>, role: string) {
  return Object.entries(synthesized.data.aws_iam_policy_document as Record<string, { statement: { actions: string[]; resources: string[] }[] }>)
    .filter(([id]) => id.includes(`${role}-permissions`))
    .flatMap(([, doc]) => doc.statement);
}

describe("McpService", () => {
  it("runs the image with the contract's ports, colour and version", () => {
    const server = container();
    expect(server).toMatchObject({
      name: "mcp-server",
      image: IMAGE,
      essential: true,
      readonlyRootFilesystem: true,
      stopTimeout: 120,
      portMappings: [
        { name: "http", containerPort: 8080 },
        { name: "metrics", containerPort: 9464 },
      ],
      healthCheck: { command: ["CMD", "node", "/app/dist/healthcheck.js"] },
    });
    expect(server.environment).toEqual(
      expect.arrayContaining([
        { name: "DEPLOYMENT_COLOR", value: "green" },
        { name: "APP_VERSION", value: "1.2.3" },
        { name: "PORT", value: "8080" },
        { name: "METRICS_PORT", value: "9464" },
        { name: "LOG_LEVEL", value: "info" },
      ]),
    );
  });

  it("injects secrets from Secrets Manager, never as plain variables", () => {
    const server = container();
    expect(server.secrets).toEqual([{ name: "REDIS_AUTH_TOKEN", valueFrom: props.secrets!.REDIS_AUTH_TOKEN }]);
    expect(() => synth({ environment: { REDIS_AUTH_TOKEN: "hunter2" } })).toThrow(/look like secrets/);
  });

  // A replaced variable would make the task differ from what a release recorded, and the release wait for it forever.
  it("refuses an environment that names a variable it sets itself, rather than replace it", () => {
    expect(() => synth({ environment: { PORT: "9000", APP_VERSION: "x" } })).toThrow(/sets PORT, APP_VERSION itself; remove them from the environment you give \(service.environment in the config\)/);
  });

  it("logs through awslogs in non-blocking mode", () => {
    expect(container().logConfiguration).toMatchObject({ logDriver: "awslogs", options: { mode: "non-blocking", "awslogs-stream-prefix": "green" } });
  });

  it("rolls back failed deployments, leaves the count to autoscaling and keeps ECS Exec off", () => {
    expect(synth()).toHaveResourceWithProperties(EcsService, {
      name: "mcp-test-green",
      launch_type: "FARGATE",
      deployment_circuit_breaker: { enable: true, rollback: true },
      health_check_grace_period_seconds: 60,
      enable_execute_command: false,
      lifecycle: { ignore_changes: ["desired_count"] },
      load_balancer: [{ target_group_arn: "arn:tg-green", container_name: "mcp-server", container_port: 8080 }],
    });
  });

  it("gives the execution role only the image's repository, its log group and its secrets", () => {
    const statements = policyStatements(json(), "execution-role");
    expect(statements).toEqual([
      { actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      { actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: ["arn:aws:ecr:eu-west-1:123456789012:repository/mcp-server"] },
      { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [expect.stringMatching(/aws_cloudwatch_log_group\..*\.arn\}:\*$/)] },
      { actions: ["secretsmanager:GetSecretValue"], resources: [props.secrets!.REDIS_AUTH_TOKEN] },
    ]);
  });

  it("grants the task role nothing unless ECS Exec or a sidecar needs it", () => {
    expect(policyStatements(json(), "task-role")).toEqual([]);
    expect(policyStatements(json({ enableExecuteCommand: true }), "task-role")[0].actions).toContain("ssmmessages:OpenDataChannel");
  });

  it("puts the given permissions boundary on the task and execution roles, and none unless given", () => {
    const boundary = "arn:aws:iam::123456789012:policy/mcp-test-workload-boundary";
    const roles = (overrides: Partial<McpServiceProps> = {}) => Object.values(json(overrides).resource[IamRole.tfResourceType]) as { name: string; permissions_boundary?: string }[];
    expect(roles({ permissionsBoundaryArn: boundary }).map((r) => [r.name, r.permissions_boundary])).toEqual([
      ["mcp-test-green-execution", boundary],
      ["mcp-test-green-task", boundary],
    ]);
    for (const role of roles()) expect(role.permissions_boundary).toBeUndefined();
  });

  it("reads the repository of an ECR image and ignores other registries", () => {
    expect(ecrRepositoryArn("222222222222.dkr.ecr.us-east-1.amazonaws.com/team/mcp:1.0.0")).toBe("arn:aws:ecr:us-east-1:222222222222:repository/team/mcp");
    expect(ecrRepositoryArn("ghcr.io/example/mcp:1.0.0")).toBeUndefined();
  });
});
