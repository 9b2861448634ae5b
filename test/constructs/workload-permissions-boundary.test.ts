import { Testing } from "cdktf";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { resourceNames } from "../../config/names";
import { WorkloadPermissionsBoundary, workloadBoundaryArn, type WorkloadPermissionsBoundaryProps } from "../../constructs/workload-permissions-boundary";
import type { IamStatement } from "../support/bootstrap";
import { allows } from "../support/iam";

const props: WorkloadPermissionsBoundaryProps = { namePrefix: "mcp-staging", accountId: "111111111111", region: "eu-west-1" };

function synth(overrides: Partial<WorkloadPermissionsBoundaryProps> = {}): { boundary: WorkloadPermissionsBoundary; statements: IamStatement[]; synthesized: string } {
  let boundary: WorkloadPermissionsBoundary | undefined;
  const synthesized = Testing.synthScope((scope) => {
    boundary = new WorkloadPermissionsBoundary(scope, "boundary", { ...props, ...overrides });
  });
  const [document] = Object.values(JSON.parse(synthesized).data.aws_iam_policy_document as Record<string, { statement: IamStatement[] }>);
  return { boundary: boundary!, statements: document.statement, synthesized };
}

describe("WorkloadPermissionsBoundary", () => {
  it("is a managed policy named <prefix>-workload-boundary, at an ARN known before it exists", () => {
    const { boundary, synthesized } = synth();
    expect(synthesized).toHaveResourceWithProperties(IamPolicy, { name: "mcp-staging-workload-boundary" });
    expect(resourceNames.workloadBoundary("mcp-staging")).toBe("mcp-staging-workload-boundary");
    expect(boundary.arn).toBe("arn:aws:iam::111111111111:policy/mcp-staging-workload-boundary");
    expect(workloadBoundaryArn("eu-west-1", "111111111111", "mcp-staging")).toBe(boundary.arn);
  });

  it("synthesizes the statements it exposes", () => {
    const { boundary, statements } = synth();
    expect(statements).toEqual(boundary.statements);
  });

  it("lists every action explicitly, without wildcards, and only allows", () => {
    for (const statement of synth({ executeCommand: true }).statements) {
      expect(statement.effect ?? "Allow").toBe("Allow");
      for (const action of statement.actions!) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it("scopes logs, secrets, the cache and the image to the environment's own resources", () => {
    const { statements } = synth();
    const scoped = statements.filter((s) => !s.resources!.includes("*"));
    expect(scoped.map((s) => [s.sid, s.resources])).toEqual([
      ["PullServerImage", ["arn:aws:ecr:eu-west-1:111111111111:repository/mcp-server"]],
      ["WriteEnvironmentLogs", ["arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/mcp-staging/*", "arn:aws:logs:eu-west-1:111111111111:log-group:/vpc/mcp-staging/*"]],
      ["ReadEnvironmentSecrets", ["arn:aws:secretsmanager:eu-west-1:111111111111:secret:mcp-staging/*"]],
      ["ConnectToEnvironmentCache", ["arn:aws:elasticache:eu-west-1:111111111111:replicationgroup:mcp-staging-*", "arn:aws:elasticache:eu-west-1:111111111111:user:mcp-staging-*"]],
    ]);
  });

  it("keeps out another environment whose name starts with this one's", () => {
    const { statements } = synth();
    const other = "arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/mcp-staging-eu/blue:*";
    expect(allows(statements, "logs:PutLogEvents", other, "eu-west-1")).toBe(false);
    expect(allows(statements, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:111111111111:secret:mcp-staging-eu/redis-auth-token-AbCdEf", "eu-west-1")).toBe(false);
    expect(allows(statements, "logs:PutLogEvents", "arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/mcp-staging/blue:*", "eu-west-1")).toBe(true);
  });

  it("holds every statement whose resource is * to the environment's region", () => {
    const unscoped = synth({ executeCommand: true }).statements.filter((s) => s.resources!.includes("*"));
    expect(unscoped.map((s) => s.sid)).toEqual(["LogInToRegistry", "SendTraces", "OpenExecSessions"]);
    for (const statement of unscoped) expect(statement.condition).toEqual([{ test: "StringEquals", variable: "aws:RequestedRegion", values: ["eu-west-1"] }]);
  });

  it("grants nothing on IAM, STS or any service the workloads do not call", () => {
    const services = new Set(synth({ executeCommand: true }).statements.flatMap((s) => s.actions!.map((a) => a.split(":")[0])));
    expect([...services].sort()).toEqual(["ecr", "elasticache", "logs", "secretsmanager", "ssmmessages", "xray"]);
  });

  it("allows ECS Exec sessions only when the environment turns ECS Exec on", () => {
    const actions = (overrides: Partial<WorkloadPermissionsBoundaryProps>) => synth(overrides).statements.flatMap((s) => s.actions!);
    expect(actions({}).filter((a) => a.startsWith("ssmmessages:"))).toEqual([]);
    expect(actions({ executeCommand: true })).toEqual(expect.arrayContaining(["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"]));
  });

  it("pulls from the repository it is given", () => {
    const pull = synth({ imageRepositoryName: "team/mcp" }).statements.find((s) => s.sid === "PullServerImage")!;
    expect(pull.resources).toEqual(["arn:aws:ecr:eu-west-1:111111111111:repository/team/mcp"]);
  });
});
