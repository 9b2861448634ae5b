import { Construct } from "constructs";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";

export type PolicyStatement = DataAwsIamPolicyDocumentStatement;

/** An IAM policy document computed locally by Terraform (no AWS call), so offline plans work. */
export function policyDocument(scope: Construct, id: string, statements: PolicyStatement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, { statement: statements });
}

/** Refuses any request to `resources` that does not arrive over TLS. */
export function denyInsecureTransport(actions: string[], resources: string[]): PolicyStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    actions,
    principals: [{ type: "*", identifiers: ["*"] }],
    resources,
    condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

export interface ServiceRoleOptions {
  /** Role name. */
  readonly name: string;
  /** Service principal allowed to assume the role, e.g. "ecs-tasks.amazonaws.com". */
  readonly service: string;
  /** Conditions on the trust policy (confused-deputy protection). */
  readonly trustConditions?: PolicyStatement["condition"];
  /** Inline permissions; none when empty. */
  readonly statements: PolicyStatement[];
  /** ARN of a managed policy capping what the role may ever do, whatever its policies say. @default none */
  readonly permissionsBoundary?: string;
}

/** A role one AWS service may assume, with an inline least-privilege policy. */
export function serviceRole(scope: Construct, id: string, options: ServiceRoleOptions): IamRole {
  const trust = policyDocument(scope, `${id}-trust`, [
    {
      actions: ["sts:AssumeRole"],
      principals: [{ type: "Service", identifiers: [options.service] }],
      condition: options.trustConditions,
    },
  ]);
  const role = new IamRole(scope, id, { name: options.name, assumeRolePolicy: trust.json, permissionsBoundary: options.permissionsBoundary });
  if (options.statements.length > 0) {
    new IamRolePolicy(scope, `${id}-policy`, {
      name: `${options.name}-policy`,
      role: role.id,
      policy: policyDocument(scope, `${id}-permissions`, options.statements).json,
    });
  }
  return role;
}

/** Key administration without `kms:*`: enough for the account to manage and, if needed, repair the key. */
const KMS_KEY_ADMIN_ACTIONS = [
  "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
  "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription", "kms:EnableKey",
  "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant",
  // An alias call is authorized on the key too, and this policy does not delegate kms:* to IAM.
  "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
];

export interface AccountKeyOptions {
  /** What the key encrypts. */
  readonly description: string;
  /** The account that administers the key (KMS_KEY_ADMIN_ACTIONS, never kms:*). */
  readonly accountId: string;
  /** The key's alias, `alias/...`. */
  readonly alias: string;
  /** Who may use the key, and on what conditions; the policy does not delegate use to IAM. */
  readonly users: PolicyStatement[];
}

/** A rotating customer-managed key that its account administers and only `users` may use, with its alias. */
export function accountKey(scope: Construct, options: AccountKeyOptions): KmsKey {
  const key = new KmsKey(scope, "key", {
    description: options.description,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: policyDocument(scope, "key-policy", [
      { sid: "AccountAdministers", actions: KMS_KEY_ADMIN_ACTIONS, principals: [{ type: "AWS", identifiers: [options.accountId] }], resources: ["*"] },
      ...options.users,
    ]).json,
  });
  new KmsAlias(scope, "alias", { name: options.alias, targetKeyId: key.keyId });
  return key;
}
