import { namePrefix, resourceNames, stateKey } from "../config/names";
import { Construct } from "constructs";
import { deployStatements, planDenyStatements, readStatements, type DeployerScope } from "./deployer-permissions";
import { GithubActionsRole } from "./github-actions-role";
import { WorkloadPermissionsBoundary } from "./workload-permissions-boundary";

export interface EnvironmentDeployerRolesProps {
  /** Environment name, e.g. "staging"; also the GitHub environment the deploy role trusts. Required. */
  readonly environment: string;
  /** AWS account the environment lives in. Required. */
  readonly accountId: string;
  /** Region the environment lives in. Required. */
  readonly region: string;
  /** GitHub repository ("owner/name") whose workflows deploy it. Required. */
  readonly repository: string;
  /** ARN of the account's GitHub OIDC provider. Required. */
  readonly oidcProviderArn: string;
  /** Terraform state bucket. Required. */
  readonly stateBucket: string;
  /** ARN of the server's image repository. Required. */
  readonly imageRepositoryArn: string;
  /** The environment's key in the state bucket. @default "mcp-deploy/<environment>.tfstate" */
  readonly stateKey?: string;
  /** Prefix of the names the environment stack gives its resources. @default "mcp-<environment>" */
  readonly namePrefix?: string;
  /** `project` tag the environment stack puts on every resource. @default "mcp-deploy" */
  readonly projectTag?: string;
  /** Let the environment's tasks open ECS Exec sessions (its `service.enableExecuteCommand`), within the workload boundary. @default false */
  readonly executeCommand?: boolean;
  /** Longest deploy session: a release bakes each promotion step, so it outlasts the 1-hour default. @default 10800 */
  readonly deploySessionSeconds?: number;
}

/**
 * The two roles GitHub Actions uses for one environment, and the boundary of the roles it deploys:
 * - plan: read-only, for `cdktf diff` on pull requests (it can write only the state lock);
 * - deploy: applies the stack and runs releases, only from jobs of the GitHub environment of the
 *   same name, so the environment's protection rules (required reviewers, branch main) gate it;
 * - boundary: the permissions boundary the deploy role must put on every `mcp-<env>-*` role it
 *   creates or changes, so no role it writes can do more than the workloads need.
 * Both roles are named `github-mcp-<env>-*`, outside the `mcp-<env>-*` prefix the deploy role may manage.
 */
export class EnvironmentDeployerRoles extends Construct {
  public readonly plan: GithubActionsRole;
  public readonly deploy: GithubActionsRole;
  public readonly boundary: WorkloadPermissionsBoundary;

  constructor(scope: Construct, id: string, props: EnvironmentDeployerRolesProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? namePrefix(props.environment);
    this.boundary = new WorkloadPermissionsBoundary(this, "workload-boundary", {
      namePrefix: prefix,
      accountId: props.accountId,
      region: props.region,
      executeCommand: props.executeCommand,
    });
    const permissions: DeployerScope = {
      environment: props.environment,
      namePrefix: prefix,
      projectTag: props.projectTag ?? "mcp-deploy",
      accountId: props.accountId,
      region: props.region,
      stateBucket: props.stateBucket,
      stateKey: props.stateKey ?? stateKey(props.environment),
      imageRepositoryArn: props.imageRepositoryArn,
      workloadBoundaryArn: this.boundary.arn,
    };
    const common = { oidcProviderArn: props.oidcProviderArn, repository: props.repository };

    this.plan = new GithubActionsRole(this, "plan", {
      ...common,
      name: resourceNames.githubRole(prefix, "plan"),
      description: `Read-only: plans ${props.environment} from pull requests of ${props.repository}, and for the daily drift check on main`,
      // Pull requests, and workflows of main (drift.yml): neither may write state or read a secret.
      subjects: ["pull_request", "ref:refs/heads/main"],
      policies: { read: readStatements(permissions), deny: planDenyStatements() },
    });
    this.deploy = new GithubActionsRole(this, "deploy", {
      ...common,
      name: resourceNames.githubRole(prefix, "deploy"),
      description: `Applies and releases ${props.environment} from the ${props.environment} environment of ${props.repository}`,
      subjects: [`environment:${props.environment}`],
      policies: { read: readStatements(permissions), ...deployStatements(permissions) },
      maxSessionSeconds: props.deploySessionSeconds ?? 10800,
    });
  }
}
