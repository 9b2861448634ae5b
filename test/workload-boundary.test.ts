import { namePrefix, resourceNames } from "../config/names";
import { loadEnvironment, type Environment } from "../config/load";
import { bootstrapAccounts } from "../stacks/bootstrap-stack";
import { taskSettings } from "../stacks/task-settings";
import { policyDocuments, synthBootstrap, type IamStatement } from "./support/bootstrap";
import { resourcesOf, synthStackText, type TerraformJson } from "./support/fixtures";
import { allows } from "./support/iam";

/** `${data.aws_iam_policy_document.<id>.json}` -> `<id>` */
const documentId = (reference: unknown) => /^\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}$/.exec(String(reference))![1];

/**
 * The environment's stack and its account's bootstrap stack, both synthesized from the same
 * config: the boundary the bootstrap creates, and every (role, action, resource) the roles of the
 * environment stack are granted, with references to the stack's own resources replaced by the ARNs
 * AWS gives them.
 */
function synthesizeBoth(environment: Environment) {
  const { name, aws } = environment.config;
  const stack: TerraformJson = JSON.parse(synthStackText(name as "staging" | "production", environment));
  const [account] = bootstrapAccounts([environment.config]);
  const bootstrap = synthBootstrap(account);

  const [boundaryId, boundaryPolicy] = Object.entries(resourcesOf(bootstrap, "aws_iam_policy")).find(([, p]) => p.name === resourceNames.workloadBoundary(namePrefix(name))) ?? [];
  const boundary: IamStatement[] = boundaryId ? policyDocuments(bootstrap)[documentId(boundaryPolicy!.policy)] : [];

  const resolve = (resource: string): string => {
    const resolved = resource.replace(/\$\{(aws_[a-z_]+)\.([^.}]+)\.arn\}/g, (reference, type: string, id: string) => {
      const target = resourcesOf(stack, type)[id];
      if (type === "aws_cloudwatch_log_group") return `arn:aws:logs:${aws.region}:${aws.accountId}:log-group:${target.name}`;
      // Secrets Manager appends six random characters to a secret's name in its ARN.
      if (type === "aws_secretsmanager_secret") return `arn:aws:secretsmanager:${aws.region}:${aws.accountId}:secret:${target.name}-AbCdEf`;
      if (type === "aws_elasticache_replication_group") return `arn:aws:elasticache:${aws.region}:${aws.accountId}:replicationgroup:${target.replication_group_id}`;
      if (type === "aws_elasticache_user") return `arn:aws:elasticache:${aws.region}:${aws.accountId}:user:${target.user_id}`;
      throw new Error(`no rule to resolve ${reference}; add one for ${type}`);
    });
    if (resolved.includes("${")) throw new Error(`unresolved reference in ${resource}`);
    return resolved;
  };

  const roles = Object.entries(resourcesOf(stack, "aws_iam_role"));
  const grants = Object.values(resourcesOf(stack, "aws_iam_role_policy")).flatMap((attachment) => {
    const [, role] = roles.find(([id]) => attachment.role === `\${aws_iam_role.${id}.id}`)!;
    return policyDocuments(stack)[documentId(attachment.policy)].flatMap((statement) =>
      (statement.actions ?? []).flatMap((action) => (statement.resources ?? []).map((resource) => ({ role: String(role.name), action, resource: resolve(resource) }))),
    );
  });
  const blocked = grants.filter((g) => !allows(boundary, g.action, g.resource, aws.region));
  return { boundary, boundaryName: boundaryPolicy?.name, roles: roles.map(([, r]) => r), grants, blocked };
}

// The bootstrap stack's boundary and the environment stack's roles are synthesized and applied
// separately; these tests hold them together, so neither can change without the other.
describe.each(["staging", "production"] as const)("the workload boundary of %s", (name) => {
  const environment = loadEnvironment(name);
  const { accountId: account, region } = environment.config.aws;
  const { boundary, boundaryName, roles, grants, blocked } = synthesizeBoth(environment);

  it("is created by the bootstrap stack of the environment's account", () => {
    expect(boundaryName).toBe(resourceNames.workloadBoundary(namePrefix(name)));
    expect(boundary.length).toBeGreaterThan(0);
  });

  it("is the policy every role of the environment stack names as its boundary", () => {
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) expect(role.permissions_boundary).toBe(`arn:aws:iam::${account}:policy/${boundaryName}`);
  });

  it("allows every action the environment's roles are granted, on the resources they are granted it", () => {
    expect(new Set(grants.map((g) => g.role))).toEqual(new Set(roles.map((r) => r.name)));
    expect(blocked).toEqual([]);
  });

  it("blocks grants outside the environment, its services and its region", () => {
    expect(allows(boundary, "iam:CreateRole", "*", region)).toBe(false);
    expect(allows(boundary, "logs:PutLogEvents", `arn:aws:logs:${region}:${account}:log-group:/ecs/mcp-other/blue:*`, region)).toBe(false);
    expect(allows(boundary, "xray:PutTraceSegments", "*", region === "us-east-1" ? "eu-west-1" : "us-east-1")).toBe(false);
  });
});

describe("the workload boundary of an environment with ECS Exec on", () => {
  const staging = loadEnvironment("staging");
  const config = { ...staging.config, service: { ...staging.config.service, enableExecuteCommand: true } };
  // ECS Exec is a task setting: the bootstrap's boundary follows the config, each colour's role its recorded settings.
  const task = taskSettings(config);
  const colors = { blue: { ...staging.release.colors.blue, task }, green: { ...staging.release.colors.green, task } };
  const withExec: Environment = { config, release: { ...staging.release, colors } };

  it("follows the switch, so the task roles' exec channels still work", () => {
    const { grants, blocked } = synthesizeBoth(withExec);
    expect(grants.map((g) => g.action)).toContain("ssmmessages:OpenDataChannel");
    expect(blocked).toEqual([]);
  });

  it("allows no exec channels where ECS Exec is off", () => {
    const { boundary, grants } = synthesizeBoth(staging);
    expect(grants.map((g) => g.action)).not.toContain("ssmmessages:OpenDataChannel");
    expect(allows(boundary, "ssmmessages:OpenDataChannel", "*", staging.config.aws.region)).toBe(false);
  });
});
