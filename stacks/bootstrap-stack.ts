import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AggregateConfigError, ConfigError, environmentFile } from "../config/load";
import type { EnvironmentConfig } from "../config/schema";
import { imagePushStatements } from "../constructs/deployer-permissions";
import { EnvironmentDeployerRoles } from "../constructs/environment-deployer-roles";
import { GithubActionsRole } from "../constructs/github-actions-role";
import { GithubOidcProvider } from "../constructs/github-oidc-provider";
import { ImageRepository } from "../constructs/image-repository";
import { StateBucket } from "../constructs/state-bucket";
import { PROJECT, resourceNames } from "../config/names";

/** One AWS account to bootstrap, and the environments that live in it. */
export interface BootstrapAccount {
  /** Stack name: `bootstrap-<account id>`, stable when environments are added to the account. */
  readonly stackId: string;
  readonly accountId: string;
  readonly region: string;
  readonly repository: string;
  /** GitHub's OIDC provider in the account, if it exists already. @default created by the stack */
  readonly githubOidcProviderArn?: string;
  readonly environments: readonly EnvironmentConfig[];
}

/**
 * Groups environments by AWS account: the OIDC provider and the image repository exist once per
 * account, so one bootstrap stack serves every environment in it. Environments that share an
 * account must share its region and repository; anything else is reported per environment file.
 */
export function bootstrapAccounts(environments: readonly EnvironmentConfig[]): BootstrapAccount[] {
  const byAccount = new Map<string, EnvironmentConfig[]>();
  for (const config of environments) byAccount.set(config.aws.accountId, [...(byAccount.get(config.aws.accountId) ?? []), config]);
  const errors: ConfigError[] = [];
  const accounts = [...byAccount].map(([accountId, members]) => {
    const [first] = members;
    for (const other of members.slice(1)) {
      const problems = [
        ...(other.aws.region !== first.aws.region
          ? [`aws.region: "${other.aws.region}" differs from "${first.aws.region}" of ${first.name}, which shares account ${accountId}; the account's bootstrap stack keeps one image repository in one region, so use the same region or a separate account`]
          : []),
        ...(other.repository !== first.repository
          ? [`repository: "${other.repository}" differs from "${first.repository}" of ${first.name}, which shares account ${accountId}; one account's image repository is pushed to from one GitHub repository`]
          : []),
        ...(other.aws.githubOidcProviderArn !== first.aws.githubOidcProviderArn
          ? [`aws.githubOidcProviderArn: differs from ${first.name}'s, which shares account ${accountId}; an account has one GitHub OIDC provider, so give every environment in it the same value (or none)`]
          : []),
      ];
      if (problems.length > 0) errors.push(new ConfigError(environmentFile(other.name), problems));
    }
    return { stackId: `bootstrap-${accountId}`, accountId, region: first.aws.region, repository: first.repository, githubOidcProviderArn: first.aws.githubOidcProviderArn, environments: members };
  });
  if (errors.length > 0) throw new AggregateConfigError(errors);
  return accounts;
}

/** Where an operator's `terraform apply` keeps the bootstrap state: bootstrap/state/, committed (see bootstrap/README.md). */
export function bootstrapStatePath(stackId: string): string {
  // Relative to the stack's folder, cdktf.out/stacks/<stack>/, where Terraform runs.
  return `../../../bootstrap/state/${stackId}.tfstate`;
}

/**
 * What an AWS account needs before its environment stacks can be deployed from CI: the Terraform
 * state bucket, the server's image repository, GitHub's OIDC provider, a role that pushes images
 * from main, and per environment a read-only plan role, a deploy role and the permissions boundary
 * of the environment's own roles. Applied once per account by a person with administrator access,
 * with local state.
 */
export class BootstrapStack extends TerraformStack {
  public readonly imageRepository: ImageRepository;
  public readonly deployers: Record<string, EnvironmentDeployerRoles> = {};

  constructor(scope: Construct, id: string, account: BootstrapAccount) {
    super(scope, id);
    const tags = { project: PROJECT, component: "bootstrap", "managed-by": "cdktf", repository: account.repository };
    new AwsProvider(this, "aws", { region: account.region, allowedAccountIds: [account.accountId], defaultTags: [{ tags }] });
    new LocalBackend(this, { path: bootstrapStatePath(id) });

    const regionalProviders = new Map<string, AwsProvider>();
    const providerFor = (region: string) => {
      if (region === account.region) return undefined;
      if (!regionalProviders.has(region)) {
        regionalProviders.set(region, new AwsProvider(this, `aws-${region}`, { alias: region, region, allowedAccountIds: [account.accountId], defaultTags: [{ tags }] }));
      }
      return regionalProviders.get(region);
    };
    const stateBuckets = new Map(account.environments.map((e) => [e.stateBackend.bucket, e.stateBackend.region]));
    const buckets = [...stateBuckets].map(([bucket, region]) => new StateBucket(this, `state-bucket-${bucket}`, { bucketName: bucket, provider: providerFor(region) }));
    new TerraformOutput(this, "state_buckets", { value: buckets.map((b) => b.bucket.bucket), description: "Terraform state buckets of the environment stacks" });

    this.imageRepository = new ImageRepository(this, "image-repository");
    // An account holds one provider per issuer: use the one it has, else create it.
    const oidcProviderArn = account.githubOidcProviderArn ?? new GithubOidcProvider(this, "github-oidc").provider.arn;
    const imagePush = new GithubActionsRole(this, "image-push", {
      name: resourceNames.imagePushRole,
      description: `Pushes the server image from the main branch of ${account.repository}`,
      oidcProviderArn,
      repository: account.repository,
      // Pushing an image changes nothing that runs (tags are immutable, releases name digests), so main alone may push.
      subjects: ["ref:refs/heads/main"],
      policies: { push: imagePushStatements(this.imageRepository.repository.arn) },
    });

    for (const environment of account.environments) {
      const roles = new EnvironmentDeployerRoles(this, `deployer-${environment.name}`, {
        environment: environment.name,
        accountId: account.accountId,
        region: account.region,
        repository: account.repository,
        oidcProviderArn,
        stateBucket: environment.stateBackend.bucket,
        imageRepositoryArn: this.imageRepository.repository.arn,
        executeCommand: environment.service.enableExecuteCommand,
      });
      this.deployers[environment.name] = roles;
      const variable = environment.name.toUpperCase().replace(/-/g, "_");
      new TerraformOutput(this, `${environment.name}_plan_role_arn`, { value: roles.plan.role.arn, description: `GitHub repository variable AWS_PLAN_ROLE_ARN_${variable}` });
      new TerraformOutput(this, `${environment.name}_deploy_role_arn`, { value: roles.deploy.role.arn, description: `GitHub repository variable AWS_DEPLOY_ROLE_ARN_${variable}` });
      new TerraformOutput(this, `${environment.name}_image_push_role_arn`, { value: imagePush.role.arn, description: `GitHub repository variable AWS_IMAGE_ROLE_ARN_${variable}` });
      new TerraformOutput(this, `${environment.name}_workload_boundary_arn`, { value: roles.boundary.policy.arn, description: `Permissions boundary of every role of the ${environment.name} stack` });
    }
    new TerraformOutput(this, "image_repository_url", { value: this.imageRepository.repository.repositoryUrl, description: "Where the workflow pushes the server image" });
    new TerraformOutput(this, "github_oidc_provider_arn", { value: oidcProviderArn });
  }
}
