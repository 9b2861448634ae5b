import { Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { StateBucket, type StateBucketProps } from "../../constructs/state-bucket";

const synth = (props: Partial<StateBucketProps> = {}) => Testing.synthScope((scope) => new StateBucket(scope, "state", { bucketName: "acme-tfstate", ...props }));

describe("StateBucket", () => {
  it("creates the bucket under its exact name and refuses to be destroyed", () => {
    expect(synth()).toHaveResourceWithProperties(S3Bucket, { bucket: "acme-tfstate", force_destroy: false, lifecycle: { prevent_destroy: true } });
  });

  it("versions every state so a bad apply can be undone", () => {
    expect(synth()).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
  });

  it("encrypts with KMS and a bucket key", () => {
    expect(synth()).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" }, bucket_key_enabled: true }],
    });
  });

  it("blocks every kind of public access and disables ACLs", () => {
    const synthesized = synth();
    expect(synthesized).toHaveResourceWithProperties(S3BucketPublicAccessBlock, { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(synthesized).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
  });

  it("denies every request that does not use TLS", () => {
    const json = JSON.parse(synth());
    const [statement] = Object.values<{ statement: Record<string, unknown>[] }>(json.data.aws_iam_policy_document)[0].statement;
    expect(statement).toMatchObject({ effect: "Deny", actions: ["s3:*"], condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }] });
  });

  it("expires old state versions after the configured days but always keeps the newest ones", () => {
    expect(synth({ noncurrentVersionDays: 30, keepNoncurrentVersions: 5 })).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [expect.objectContaining({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 30, newer_noncurrent_versions: 5 }] })],
    });
  });
});
