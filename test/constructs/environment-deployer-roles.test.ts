import { Testing } from "cdktf";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { deployStatements, planDenyStatements, readStatements, type DeployerScope } from "../../constructs/deployer-permissions";
import { EnvironmentDeployerRoles, type EnvironmentDeployerRolesProps } from "../../constructs/environment-deployer-roles";
import type { PolicyStatement } from "../../constructs/iam";
import { workloadBoundaryArn } from "../../constructs/workload-permissions-boundary";
import { arnMatches } from "../support/iam";

const props: EnvironmentDeployerRolesProps = {
  environment: "staging",
  accountId: "111111111111",
  region: "eu-west-1",
  repository: "acme/widgets",
  oidcProviderArn: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
  stateBucket: "acme-tfstate",
  imageRepositoryArn: "arn:aws:ecr:eu-west-1:111111111111:repository/mcp-server",
};

const scope: DeployerScope = {
  environment: "staging",
  namePrefix: "mcp-staging",
  projectTag: "mcp-deploy",
  accountId: "111111111111",
  region: "eu-west-1",
  stateBucket: "acme-tfstate",
  stateKey: "mcp-deploy/staging.tfstate",
  imageRepositoryArn: props.imageRepositoryArn,
  workloadBoundaryArn: "arn:aws:iam::111111111111:policy/mcp-staging-workload-boundary",
};
const deployGroups = deployStatements(scope);
const everyDeployStatement = Object.values(deployGroups).flat();
/** IAM actions that put permissions on a role. */
const ROLE_GRANTS = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"];
const bySid = (statements: PolicyStatement[], sid: string) => statements.find((s) => s.sid === sid)!;

/** The policy as IAM measures it: JSON without whitespace. */
function iamSize(statements: PolicyStatement[]): number {
  const condition = (s: PolicyStatement) =>
    ((s.condition as { test: string; variable: string; values: string[] }[] | undefined) ?? []).reduce<Record<string, Record<string, string[]>>>(
      (all, c) => ({ ...all, [c.test]: { ...all[c.test], [c.variable]: c.values } }),
      {},
    );
  return JSON.stringify({ Version: "2012-10-17", Statement: statements.map((s) => ({ Sid: s.sid, Effect: s.effect ?? "Allow", Action: s.actions, Resource: s.resources, Condition: condition(s) })) }).length;
}

function trustSubjects(roleName: string): string[] {
  const json = JSON.parse(Testing.synthScope((s) => new EnvironmentDeployerRoles(s, "deployers", props)));
  const trustId = Object.keys(json.data.aws_iam_policy_document).find((id) => id.includes(roleName) && id.includes("trust"))!;
  const condition = json.data.aws_iam_policy_document[trustId].statement[0].condition as { variable: string; values: string[] }[];
  return condition.find((c) => c.variable.endsWith(":sub"))!.values;
}

describe("EnvironmentDeployerRoles", () => {
  it("names both roles outside the mcp-<env>- prefix that the deploy role may manage", () => {
    const synthesized = Testing.synthScope((s) => new EnvironmentDeployerRoles(s, "deployers", props));
    expect(synthesized).toHaveResourceWithProperties(IamRole, { name: "github-mcp-staging-plan", max_session_duration: 3600 });
    expect(synthesized).toHaveResourceWithProperties(IamRole, { name: "github-mcp-staging-deploy", max_session_duration: 10800 });
    for (const name of ["plan-read", "deploy-read", "deploy-network", "deploy-edge", "deploy-services", "deploy-release", "deploy-identity-and-storage"]) {
      expect(synthesized).toHaveResourceWithProperties(IamPolicy, { name: `github-mcp-staging-${name}` });
    }
    const managed = bySid(everyDeployStatement, "ManageEnvironmentRoles").resources!;
    expect(managed).toEqual(["arn:aws:iam::111111111111:role/mcp-staging-*"]);
  });

  it("lets pull requests assume only the plan role, and only the staging environment assume the deploy role", () => {
    expect(trustSubjects("plan")).toEqual(["repo:acme/widgets:pull_request", "repo:acme/widgets:ref:refs/heads/main"]);
    expect(trustSubjects("deploy")).toEqual(["repo:acme/widgets:environment:staging"]);
  });

  it("gives the plan role no write at all, not even the state lock (pull requests plan with -lock=false)", () => {
    const writes = readStatements(scope).filter((s) => s.actions!.some((a) => /:(Put|Delete|Create|Update|Modify)/.test(a)));
    expect(writes).toEqual([]);
    expect(bySid(everyDeployStatement, "LockState").resources).toEqual(["arn:aws:s3:::acme-tfstate/mcp-deploy/staging.tfstate.tflock"]);
  });

  it("uses wildcards only in read verbs, never a whole service", () => {
    for (const statement of [...readStatements(scope), ...everyDeployStatement]) {
      for (const action of statement.actions!) {
        if (action.includes("*")) expect(action).toMatch(/^[a-z0-9-]+:(Describe|List|Get)\*$/);
      }
    }
  });

  it("reads no secret, and scopes roles and state to the environment's own names", () => {
    // The stacks hold no secret (Redis authenticates with IAM), so neither role reads one.
    expect([...everyDeployStatement, ...readStatements(scope)].flatMap((s) => s.actions!).filter((a) => a.startsWith("secretsmanager:"))).toEqual([]);
    expect(planDenyStatements()).toEqual([expect.objectContaining({ effect: "Deny", actions: ["secretsmanager:GetSecretValue"], resources: ["*"] })]);
    expect(bySid(everyDeployStatement, "WriteState").resources).toEqual(["arn:aws:s3:::acme-tfstate/mcp-deploy/staging.tfstate"]);
    expect(bySid(everyDeployStatement, "ManageLoadBalancerLogBuckets").resources).toEqual(["arn:aws:s3:::mcp-staging-alb-logs-*"]);
  });

  it("passes roles only to ECS tasks, and the flow-logs role only to VPC flow logs", () => {
    const passes = everyDeployStatement.filter((s) => s.actions!.includes("iam:PassRole"));
    expect(passes.map((s) => [s.resources, s.condition])).toEqual([
      [["arn:aws:iam::111111111111:role/mcp-staging-*"], [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }]],
      [["arn:aws:iam::111111111111:role/mcp-staging-flow-logs"], [{ test: "StringEquals", variable: "iam:PassedToService", values: ["vpc-flow-logs.amazonaws.com"] }]],
    ]);
  });

  it("creates roles and writes their permissions only with the workload boundary on them", () => {
    const granting = everyDeployStatement.filter((s) => (s.effect ?? "Allow") === "Allow" && s.actions!.some((a) => ROLE_GRANTS.includes(a)));
    expect(granting.flatMap((s) => s.actions!.filter((a) => a.startsWith("iam:"))).sort()).toEqual(["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"]);
    for (const statement of granting) {
      expect(statement.resources).toEqual(["arn:aws:iam::111111111111:role/mcp-staging-*"]);
      expect(statement.condition).toEqual([{ test: "StringEquals", variable: "iam:PermissionsBoundary", values: ["arn:aws:iam::111111111111:policy/mcp-staging-workload-boundary"] }]);
    }
  });

  it("denies removing any role's permissions boundary", () => {
    expect(bySid(everyDeployStatement, "DenyRemovingBoundaries")).toEqual({
      sid: "DenyRemovingBoundaries",
      effect: "Deny",
      actions: ["iam:DeleteRolePermissionsBoundary"],
      resources: ["arn:aws:iam::111111111111:role/*"],
    });
  });

  it("can never change the workload boundary policy itself", () => {
    const deny = bySid(everyDeployStatement, "DenyChangingBoundary");
    expect(deny.effect).toBe("Deny");
    expect(deny.resources).toEqual([scope.workloadBoundaryArn]);
    expect(deny.actions).toEqual(expect.arrayContaining(["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]));
    for (const statement of [...readStatements(scope), ...everyDeployStatement].filter((s) => (s.effect ?? "Allow") === "Allow")) {
      if (!statement.actions!.some((a) => a.startsWith("iam:"))) continue;
      for (const resource of statement.resources!) expect([statement.sid, arnMatches(resource, scope.workloadBoundaryArn)]).toEqual([statement.sid, false]);
    }
  });

  it("creates the workload boundary the deploy role requires, named for the environment", () => {
    const json = JSON.parse(Testing.synthScope((s) => new EnvironmentDeployerRoles(s, "deployers", props)));
    const policyNames = Object.values(json.resource.aws_iam_policy as Record<string, { name: string }>).map((p) => p.name);
    expect(policyNames).toContain("mcp-staging-workload-boundary");
    const documents = Object.values(json.data.aws_iam_policy_document as Record<string, { statement: PolicyStatement[] }>).flatMap((d) => d.statement);
    const required = documents.find((s) => s.sid === "GrantOnlyWithinBoundary")!.condition as { values: string[] }[];
    expect(required[0].values).toEqual(["arn:aws:iam::111111111111:policy/mcp-staging-workload-boundary"]);
  });

  it("deletes network resources and manages keys only where they carry this environment's tags", () => {
    for (const sid of ["ChangeOwnNetwork", "ManageOwnKeys"]) {
      expect(bySid(everyDeployStatement, sid).condition).toEqual(
        expect.arrayContaining([
          { test: "StringEquals", variable: "aws:ResourceTag/project", values: ["mcp-deploy"] },
          { test: "StringEquals", variable: "aws:ResourceTag/environment", values: ["staging"] },
        ]),
      );
    }
    const unconditionedDeletes = everyDeployStatement.filter((s) => !s.condition && s.actions!.some((a) => a.startsWith("ec2:Delete")));
    expect(unconditionedDeletes.filter((s) => s.sid !== "CreateNetwork")).toEqual([]);
  });

  it("holds every statement whose resource is * to the environment's region (us-east-1 for global services)", () => {
    for (const statement of everyDeployStatement.filter((s) => s.resources!.includes("*"))) {
      const global = statement.actions!.every((a) => /^(iam|route53|sts):/.test(a));
      expect(statement.condition).toEqual(expect.arrayContaining([{ test: "StringEquals", variable: "aws:RequestedRegion", values: [global ? "us-east-1" : "eu-west-1"] }]));
    }
  });

  it("keeps every policy under IAM's 6,144-character limit for a managed policy", () => {
    const long: DeployerScope = {
      ...scope,
      environment: "production-eu",
      namePrefix: "mcp-production-eu",
      stateBucket: "a-state-bucket-name-of-sixty-three-characters-long-abcdefghijkl",
      workloadBoundaryArn: workloadBoundaryArn("eu-west-1", "111111111111", "mcp-production-eu"),
    };
    for (const statements of [readStatements(long), ...Object.values(deployStatements(long))]) expect(iamSize(statements)).toBeLessThan(6144);
  });
});
