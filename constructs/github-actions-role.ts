import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { GITHUB_OIDC_HOST } from "./github-oidc-provider";
import { policyDocument, type PolicyStatement } from "./iam";

export interface GithubActionsRoleProps {
  /** Role name. Required. */
  readonly name: string;
  /** ARN of the account's GitHub OIDC provider. Required. */
  readonly oidcProviderArn: string;
  /** Repository ("owner/name") whose workflows may assume the role. Required. */
  readonly repository: string;
  /**
   * What may assume it, as the token's `sub` after `repo:<owner/name>:`, e.g. "ref:refs/heads/main",
   * "environment:production" or "pull_request". No wildcards: each names one branch, environment or event. Required.
   */
  readonly subjects: readonly string[];
  /**
   * Permissions, as managed policies named `<role name>-<key>`: IAM caps a role's inline policies
   * at 10,240 characters in all but each managed policy at 6,144, so large grants are split. Required.
   */
  readonly policies: Readonly<Record<string, PolicyStatement[]>>;
  /** What the role is for, shown in the IAM console. @default none */
  readonly description?: string;
  /** Longest session, in seconds; a release that bakes each step needs more than the hour default. @default 3600 */
  readonly maxSessionSeconds?: number;
}

/**
 * A role that GitHub Actions workflows of one repository assume with OIDC (no stored keys), only
 * from the listed branches, environments or events, and only with STS as the token's audience.
 */
export class GithubActionsRole extends Construct {
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: GithubActionsRoleProps) {
    super(scope, id);
    if (!/^[\w.-]+\/[\w.-]+$/.test(props.repository)) throw new Error(`GithubActionsRole ${id}: repository must be "owner/name", got "${props.repository}"`);
    if (Object.keys(props.policies).length === 0) throw new Error(`GithubActionsRole ${id}: give the role at least one policy`);
    if (props.subjects.length === 0) throw new Error(`GithubActionsRole ${id}: list at least one subject (a branch ref, an environment or pull_request)`);
    const wild = props.subjects.filter((s) => /[*?]/.test(s));
    if (wild.length > 0) throw new Error(`GithubActionsRole ${id}: subjects must name exact branches, environments or events, not patterns (${wild.join(", ")})`);

    const trust = policyDocument(this, "trust", [
      {
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [{ type: "Federated", identifiers: [props.oidcProviderArn] }],
        condition: [
          { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: ["sts.amazonaws.com"] },
          // StringEquals, never StringLike: a pattern here is how a fork or a stray branch gets in.
          { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:sub`, values: props.subjects.map((s) => `repo:${props.repository}:${s}`) },
        ],
      },
    ]);
    this.role = new IamRole(this, "role", {
      name: props.name,
      description: props.description,
      assumeRolePolicy: trust.json,
      maxSessionDuration: props.maxSessionSeconds ?? 3600,
    });
    for (const [key, statements] of Object.entries(props.policies)) {
      const policy = new IamPolicy(this, `policy-${key}`, { name: `${props.name}-${key}`, policy: policyDocument(this, `permissions-${key}`, statements).json });
      new IamRolePolicyAttachment(this, `attach-${key}`, { role: this.role.name, policyArn: policy.arn });
    }
  }
}
