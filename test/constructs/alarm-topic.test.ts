import { Testing } from "cdktf";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { AlarmTopic } from "../../constructs/alarm-topic";

const synth = () =>
  JSON.parse(Testing.synthScope((scope) => new AlarmTopic(scope, "topic", { name: "mcp-test-alarms", accountId: "123456789012", emails: ["oncall@example.com"], httpsEndpoints: ["https://hooks.example.com/x"] })));

describe("AlarmTopic", () => {
  it("encrypts the topic with a rotating key of its own", () => {
    const json = synth();
    expect(Object.values(json.resource[KmsKey.tfResourceType])[0]).toMatchObject({ enable_key_rotation: true });
    expect(Object.values(json.resource.aws_sns_topic)[0]).toMatchObject({ name: "mcp-test-alarms", kms_master_key_id: expect.stringMatching(/aws_kms_key\..*\.arn/) });
  });

  it("lets only this account's CloudWatch alarms use the key and publish", () => {
    const docs = synth().data.aws_iam_policy_document as Record<string, { statement: { sid: string; principals: { identifiers: string[] }[]; condition?: { values: string[] }[] }[] }>;
    const statements = Object.values(docs).flatMap((d) => d.statement);
    for (const sid of ["CloudWatchPublishes", "AccountAlarmsPublish"]) {
      const statement = statements.find((s) => s.sid === sid)!;
      expect(statement.principals[0].identifiers).toEqual(["cloudwatch.amazonaws.com"]);
      expect(statement.condition![0].values).toEqual(["123456789012"]);
    }
  });

  it("subscribes the configured email and HTTPS endpoints", () => {
    const subscriptions = Object.values(synth().resource[SnsTopicSubscription.tfResourceType]) as { protocol: string; endpoint: string }[];
    expect(subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([["email", "oncall@example.com"], ["https", "https://hooks.example.com/x"]]);
  });
});
