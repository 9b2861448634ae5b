import { Testing } from "cdktf";
import { AccessLogBucket, type AccessLogBucketProps } from "../../constructs/access-log-bucket";

function synth(overrides: Partial<AccessLogBucketProps> = {}) {
  return JSON.parse(Testing.synthScope((scope) => new AccessLogBucket(scope, "logs", { name: "mcp-test-alb", region: "eu-west-1", ...overrides })));
}
const only = (json: { resource: Record<string, Record<string, Record<string, unknown>>> }, type: string) => Object.values(json.resource[type])[0];

describe("AccessLogBucket", () => {
  it("encrypts with SSE-S3, the only encryption ALB log delivery supports", () => {
    expect(only(synth(), "aws_s3_bucket_server_side_encryption_configuration")).toMatchObject({ rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }] });
  });

  it("blocks public access and disables ACLs", () => {
    const json = synth();
    expect(only(json, "aws_s3_bucket_public_access_block")).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(only(json, "aws_s3_bucket_ownership_controls")).toMatchObject({ rule: { object_ownership: "BucketOwnerEnforced" } });
  });

  it("expires logs after the retention period", () => {
    expect(only(synth({ retentionDays: 14 }), "aws_s3_bucket_lifecycle_configuration")).toMatchObject({ rule: [{ status: "Enabled", expiration: [{ days: 14 }] }] });
  });

  it("lets the region's load balancer log delivery write under the prefix, and nothing arrive without TLS", () => {
    const [document] = Object.values(synth({ prefix: "edge" }).data.aws_iam_policy_document) as { statement: { sid: string; effect?: string; principals: { identifiers: string[] }[]; resources: string[] }[] }[];
    const [delivery, tls] = document.statement;
    expect(delivery.principals.flatMap((p) => p.identifiers)).toEqual(["logdelivery.elasticloadbalancing.amazonaws.com", "156460612806"]);
    expect(delivery.resources[0]).toMatch(/\/edge\/AWSLogs\/\*$/);
    expect(tls).toMatchObject({ sid: "DenyInsecureTransport", effect: "Deny" });
  });

  it("names only the log-delivery service in regions without an ELB account", () => {
    const [document] = Object.values(synth({ region: "ap-southeast-7" }).data.aws_iam_policy_document) as { statement: { principals: { identifiers: string[] }[] }[] }[];
    expect(document.statement[0].principals.flatMap((p) => p.identifiers)).toEqual(["logdelivery.elasticloadbalancing.amazonaws.com"]);
  });
});
