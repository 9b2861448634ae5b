import { Construct } from "constructs";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { accountKey, denyInsecureTransport, policyDocument } from "./iam";

export interface AlarmTopicProps {
  /** Topic name. Required. */
  readonly name: string;
  /** Account that owns the key and topic; only its alarms may publish. Required. */
  readonly accountId: string;
  /** Email addresses to subscribe (each confirms by mail). @default none */
  readonly emails?: string[];
  /** HTTPS endpoints to subscribe (chat-ops, paging). @default none */
  readonly httpsEndpoints?: string[];
}

/**
 * The SNS topic every alarm notifies, encrypted with its own KMS key: CloudWatch cannot publish to
 * a topic encrypted with the AWS-managed SNS key, so the key policy grants CloudWatch use of this one.
 */
export class AlarmTopic extends Construct {
  public readonly topic: SnsTopic;
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const sameAccount = [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }];
    this.key = accountKey(this, {
      description: `Encrypts the ${props.name} alarm topic`,
      accountId: props.accountId,
      alias: `alias/${props.name}`,
      users: [
        {
          sid: "CloudWatchPublishes",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          resources: ["*"],
          condition: sameAccount,
        },
      ],
    });

    this.topic = new SnsTopic(this, "topic", { name: props.name, kmsMasterKeyId: this.key.arn });
    new SnsTopicPolicy(this, "policy", {
      arn: this.topic.arn,
      policy: policyDocument(this, "topic-policy", [
        {
          sid: "AccountAlarmsPublish",
          actions: ["sns:Publish"],
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          resources: [this.topic.arn],
          condition: sameAccount,
        },
        denyInsecureTransport(["sns:Publish"], [this.topic.arn]),
      ]).json,
    });
    const subscriptions = [...(props.emails ?? []).map((endpoint) => ({ protocol: "email", endpoint })), ...(props.httpsEndpoints ?? []).map((endpoint) => ({ protocol: "https", endpoint }))];
    subscriptions.forEach((subscription, i) => new SnsTopicSubscription(this, `subscription-${i}`, { topicArn: this.topic.arn, ...subscription }));
  }
}
