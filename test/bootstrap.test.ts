import { namePrefix } from "../config/names";
import { AggregateConfigError } from "../config/load";
import { deployStatements } from "../constructs/deployer-permissions";
import { workloadBoundaryArn } from "../constructs/workload-permissions-boundary";
import { bootstrapAccounts, bootstrapStatePath } from "../stacks/bootstrap-stack";
import { policyDocuments, repositoryAccounts, synthBootstrap } from "./support/bootstrap";
import { resourcesOf, synthStack, validConfig, type TerraformJson } from "./support/fixtures";
import { describeRealTerraform } from "./support/terraform";

const accounts = repositoryAccounts();

describe("bootstrapAccounts", () => {
  it("makes one bootstrap stack per AWS account, named after the account", () => {
    expect(accounts.map((a) => [a.stackId, a.environments.map((e) => e.name)])).toEqual([
      ["bootstrap-222222222222", ["production"]],
      ["bootstrap-111111111111", ["staging"]],
    ]);
  });

  it("serves every environment of a shared account from one stack", () => {
    const staging = validConfig("staging");
    const [shared] = bootstrapAccounts([staging, { ...staging, name: "dev", stateBackend: { ...staging.stateBackend, bucket: "dev-state" } }]);
    expect(shared.environments.map((e) => e.name)).toEqual(["staging", "dev"]);
    const json = synthBootstrap(shared);
    expect(Object.values(resourcesOf(json, "aws_s3_bucket")).map((b) => b.bucket).sort()).toEqual(["dev-state", "mcp-deploy-tfstate-111111111111"]);
    expect(Object.keys(resourcesOf(json, "aws_iam_openid_connect_provider"))).toHaveLength(1);
    expect(Object.values(resourcesOf(json, "aws_iam_role")).map((r) => r.name).sort()).toEqual([
      "github-mcp-dev-deploy",
      "github-mcp-dev-plan",
      "github-mcp-image-push",
      "github-mcp-staging-deploy",
      "github-mcp-staging-plan",
    ]);
  });

  it("refuses environments that share an account but not its region, naming the file and the fix", () => {
    const staging = validConfig("staging");
    const dev = { ...staging, name: "dev", aws: { ...staging.aws, region: "us-east-1" } };
    expect(() => bootstrapAccounts([staging, dev])).toThrow(AggregateConfigError);
    expect(() => bootstrapAccounts([staging, dev])).toThrow(/dev\.json is invalid:\n {2}- aws\.region: "us-east-1" differs from "eu-west-1" of staging, which shares account 111111111111; .*use the same region or a separate account/);
  });

  it("uses the account's existing GitHub OIDC provider when the config names one, and creates none", () => {
    const staging = validConfig("staging");
    const existing = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
    const [account] = bootstrapAccounts([{ ...staging, aws: { ...staging.aws, githubOidcProviderArn: existing } }]);
    const json = synthBootstrap(account);
    expect(resourcesOf(json, "aws_iam_openid_connect_provider")).toEqual({});
    const trusted = Object.values(policyDocuments(json))
      .flat()
      .flatMap((s) => (s.actions?.includes("sts:AssumeRoleWithWebIdentity") ? s.principals!.flatMap((p) => p.identifiers) : []));
    expect(new Set(trusted)).toEqual(new Set([existing]));
  });

  it("refuses environments of one account that name different OIDC providers", () => {
    const staging = validConfig("staging");
    const dev = { ...staging, name: "dev", aws: { ...staging.aws, githubOidcProviderArn: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" } };
    expect(() => bootstrapAccounts([staging, dev])).toThrow(/dev\.json is invalid:\n {2}- aws\.githubOidcProviderArn: differs from staging's/);
  });

  it("creates a state bucket in another region with a provider for that region", () => {
    const staging = validConfig("staging");
    const [account] = bootstrapAccounts([{ ...staging, stateBackend: { bucket: "far-state", region: "us-east-1" } }]);
    const json = synthBootstrap(account);
    const [bucket] = Object.values(resourcesOf(json, "aws_s3_bucket"));
    expect(bucket).toMatchObject({ bucket: "far-state", provider: "aws.us-east-1" });
    expect(json.provider.aws.map((p) => p.region)).toEqual(["eu-west-1", "us-east-1"]);
  });
});

describe.each(accounts.map((a) => [a.stackId, a] as const))("the %s stack", (stackId, account) => {
  const json: TerraformJson = synthBootstrap(account);
  const all = (type: string) => Object.entries(resourcesOf(json, type));
  const environments = account.environments.map((e) => e.name);

  it("synthesizes to the reviewed Terraform", () => {
    expect(json).toMatchSnapshot();
  });

  it("keeps its state in a local file under bootstrap/state", () => {
    expect(json.terraform.backend).toEqual({ local: { path: bootstrapStatePath(stackId) } });
    expect(bootstrapStatePath(stackId)).toBe(`../../../bootstrap/state/${stackId}.tfstate`);
  });

  it("creates the state bucket the environment stacks' backend names", () => {
    expect(all("aws_s3_bucket").map(([, b]) => b.bucket)).toEqual(account.environments.map((e) => e.stateBackend.bucket));
  });

  it("encrypts, versions and blocks public access to every bucket", () => {
    for (const [id] of all("aws_s3_bucket")) {
      for (const type of ["aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning", "aws_s3_bucket_policy"]) {
        expect(all(type).map(([, c]) => c.bucket)).toContain(`\${aws_s3_bucket.${id}.id}`);
      }
    }
  });

  it("encrypts the image repository and never lets a tag move", () => {
    for (const [, repository] of all("aws_ecr_repository")) {
      expect(repository).toMatchObject({ name: "mcp-server", image_tag_mutability: "IMMUTABLE", encryption_configuration: [{ encryption_type: "KMS" }] });
    }
  });

  it("trusts GitHub tokens only from this repository's main branch, pull requests and its own environments", () => {
    const repository = account.repository;
    const allowed = [`repo:${repository}:ref:refs/heads/main`, `repo:${repository}:pull_request`, ...environments.map((e) => `repo:${repository}:environment:${e}`)];
    const trusts = Object.entries(policyDocuments(json)).filter(([id]) => id.includes("trust"));
    expect(trusts.length).toBe(1 + 2 * environments.length);
    for (const [, [statement]] of trusts) {
      expect(statement.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
      const sub = statement.condition!.find((c) => c.variable === "token.actions.githubusercontent.com:sub")!;
      expect(sub.test).toBe("StringEquals");
      for (const subject of sub.values) expect(allowed).toContain(subject);
      expect(statement.condition).toContainEqual({ test: "StringEquals", variable: "token.actions.githubusercontent.com:aud", values: ["sts.amazonaws.com"] });
    }
  });

  it("lets pull requests reach no role that can write", () => {
    const pullRequestTrusts = Object.entries(policyDocuments(json)).filter(([, [s]]) => s.condition?.some((c) => c.values.some((v) => v.endsWith(":pull_request"))));
    expect(pullRequestTrusts.map(([id]) => id)).toEqual(environments.map((e) => expect.stringContaining(`deployer-${e}_plan_trust`)));
  });

  it("grants wildcards only in read verbs", () => {
    for (const [id, statements] of Object.entries(policyDocuments(json))) {
      for (const statement of statements.filter((s) => (s.effect ?? "Allow") === "Allow" && !id.includes("trust"))) {
        for (const action of statement.actions ?? []) if (action.includes("*")) expect(action).toMatch(/^[a-z0-9-]+:(Describe|List|Get)\*$/);
      }
    }
  });

  it("pins the account and tags every resource as the project's bootstrap", () => {
    const [provider] = json.provider.aws;
    expect(provider.allowed_account_ids).toEqual([account.accountId]);
    expect((provider.default_tags as { tags: Record<string, string> }[])[0].tags).toMatchObject({ project: "mcp-deploy", component: "bootstrap" });
  });

  it("outputs the role ARNs the workflows need and nothing secret", () => {
    for (const environment of environments) {
      expect(Object.keys(json.output ?? {})).toEqual(expect.arrayContaining([`${environment}_plan_role_arn`, `${environment}_deploy_role_arn`, `${environment}_image_push_role_arn`]));
    }
    expect(all("aws_secretsmanager_secret_version")).toEqual([]);
    expect(all("aws_iam_access_key")).toEqual([]);
  });
});

/** The IAM service that manages each Terraform resource type the environment stacks use. */
const SERVICE_OF: [RegExp, string][] = [
  [/^aws_appautoscaling_/, "application-autoscaling"],
  [/^aws_cloudwatch_log_/, "logs"],
  [/^aws_cloudwatch_/, "cloudwatch"],
  [/^aws_(default_security_group|eip|flow_log|internet_gateway|nat_gateway|route_table|route_table_association|security_group|subnet|vpc|vpc_endpoint|vpc_security_group_(ingress|egress)_rule)$/, "ec2"],
  [/^aws_ecs_/, "ecs"],
  [/^aws_elasticache_/, "elasticache"],
  [/^aws_iam_/, "iam"],
  [/^aws_kms_/, "kms"],
  [/^aws_lb(_|$)/, "elasticloadbalancing"],
  [/^aws_s3_/, "s3"],
  [/^aws_secretsmanager_/, "secretsmanager"],
  [/^aws_sns_/, "sns"],
  [/^aws_wafv2_/, "wafv2"],
];

describe.each(["staging", "production"] as const)("the deploy role of %s", (environment) => {
  const stack = synthStack(environment);
  const config = validConfig(environment);
  const statements = Object.values(
    deployStatements({
      environment,
      namePrefix: namePrefix(environment),
      projectTag: "mcp-deploy",
      accountId: config.aws.accountId,
      region: config.aws.region,
      stateBucket: config.stateBackend.bucket,
      stateKey: `mcp-deploy/${environment}.tfstate`,
      imageRepositoryArn: "arn:aws:ecr:eu-west-1:111111111111:repository/mcp-server",
      workloadBoundaryArn: workloadBoundaryArn(config.aws.region, config.aws.accountId, namePrefix(environment)),
    }),
  ).flat();
  const writableServices = new Set(statements.flatMap((s) => s.actions!.map((a) => a.split(":")[0])));
  const names = (type: string, key: string) => Object.values(resourcesOf(stack, type)).map((r) => String(r[key]));

  it("can write to every AWS service the environment stack uses", () => {
    for (const type of Object.keys(stack.resource)) {
      const service = SERVICE_OF.find(([pattern]) => pattern.test(type))?.[1];
      expect([type, service && writableServices.has(service)]).toEqual([type, true]);
    }
  });

  it("covers the names the environment stack gives its resources", () => {
    const prefix = namePrefix(environment);
    for (const name of [...names("aws_cloudwatch_metric_alarm", "alarm_name"), ...names("aws_cloudwatch_composite_alarm", "alarm_name"), ...names("aws_iam_role", "name"), ...names("aws_sns_topic", "name")]) {
      expect(name).toMatch(new RegExp(`^${prefix}-`));
    }
    // WAF delivers only to log groups named aws-waf-logs-*.
    for (const name of names("aws_cloudwatch_log_group", "name")) expect(name).toMatch(new RegExp(`^(/[a-z]+/${prefix}[-/]|aws-waf-logs-${prefix}$)`));
    for (const name of names("aws_wafv2_web_acl", "name")) expect(name).toBe(prefix);
    for (const name of names("aws_cloudwatch_dashboard", "dashboard_name")) expect(name.startsWith(prefix)).toBe(true);
    for (const name of names("aws_kms_alias", "name")) expect(name).toMatch(new RegExp(`^alias/${prefix}-`));
    for (const name of names("aws_secretsmanager_secret", "name")) expect(name).toMatch(new RegExp(`^${prefix}/`));
    for (const name of names("aws_ecs_task_definition", "family")) expect(name).toMatch(new RegExp(`^${prefix}-`));
    for (const name of names("aws_s3_bucket", "bucket_prefix")) expect(name).toMatch(new RegExp(`^${prefix}-alb-logs-`));
  });
});

// Real Terraform against the real AWS provider (from the local mirror), with no AWS account.
for (const account of accounts) {
  describeRealTerraform(`Terraform on the ${account.stackId} stack`, () => synthBootstrap(account));
}
