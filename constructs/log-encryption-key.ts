import { Construct } from "constructs";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { arnOf, resourceNames } from "../config/names";
import { accountKey } from "./iam";

export interface LogEncryptionKeyProps {
  /** Prefix of the environment's resource names (`mcp-<env>`): names the alias and, through resourceNames.environmentLogGroups, the log groups the key serves. Required. */
  readonly name: string;
  /** Region of the log groups: CloudWatch Logs' regional principal uses the key. Required. */
  readonly region: string;
  /** Account that owns the key and the log groups. Required. */
  readonly accountId: string;
}

/**
 * A customer-managed KMS key for the environment's log groups (what CKV_AWS_158 asks for): the
 * account may administer it, and CloudWatch Logs in this region may use it only for the
 * environment's own log groups, by the log group ARN that Logs puts in the encryption context. So
 * the key's policy and CloudTrail show who decrypts logs, and deleting the key makes them unreadable.
 */
export class LogEncryptionKey extends Construct {
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps) {
    super(scope, id);
    const { name, region, accountId } = props;
    const logGroups = resourceNames.environmentLogGroups(name).map((pattern) => arnOf(region, "logs", region, accountId, `log-group:${pattern}`));
    this.key = accountKey(this, {
      description: `Encrypts the log groups of ${name}`,
      accountId,
      alias: resourceNames.logsKeyAlias(name),
      users: [
        {
          sid: "CloudWatchLogsEncryptsTheEnvironmentsLogGroups",
          // AWS's documented key policy for Logs, with its wildcards spelt out.
          actions: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
          principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
          resources: ["*"],
          condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: logGroups }],
        },
      ],
    });
  }
}
