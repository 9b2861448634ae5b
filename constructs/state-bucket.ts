import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import type { TerraformProvider } from "cdktf";
import { denyInsecureTransport, policyDocument } from "./iam";

export interface StateBucketProps {
  /** Exact bucket name; the environment stacks' S3 backend names it in config. Required. */
  readonly bucketName: string;
  /** Days a replaced or deleted state version is kept, to recover from a bad apply. @default 90 */
  readonly noncurrentVersionDays?: number;
  /** Noncurrent versions kept regardless of age, so a burst of applies cannot push out every old state. @default 20 */
  readonly keepNoncurrentVersions?: number;
  /** Refuse `terraform destroy` of the bucket: losing it loses every environment's state. @default true */
  readonly preventDestroy?: boolean;
  /** Provider to create the bucket with, when the bucket's region differs from the stack's. @default the stack's default AWS provider */
  readonly provider?: TerraformProvider;
}

/**
 * The S3 bucket that holds Terraform state: versioned (every state is recoverable), encrypted with
 * SSE-KMS under the account's AWS-managed S3 key (decryption is logged in CloudTrail; the state
 * holds the Redis AUTH token), private, TLS-only and owned by the bucket owner alone.
 */
export class StateBucket extends Construct {
  public readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const provider = props.provider;
    this.bucket = new S3Bucket(this, "bucket", {
      provider,
      bucket: props.bucketName,
      forceDestroy: false,
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    new S3BucketVersioningA(this, "versioning", { provider, bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      provider,
      bucket: this.bucket.id,
      // A bucket key cuts the KMS requests (and their cost) that every state read and write would make.
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, "public-access", {
      provider,
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { provider, bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      provider,
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [
            { noncurrentDays: props.noncurrentVersionDays ?? 90, newerNoncurrentVersions: props.keepNoncurrentVersions ?? 20 },
          ],
          // Delete markers left once every version of a key has expired, and uploads that never finished.
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    new S3BucketPolicy(this, "policy", {
      provider,
      bucket: this.bucket.id,
      policy: policyDocument(this, "policy-document", [
        denyInsecureTransport(["s3:*"], [this.bucket.arn, `${this.bucket.arn}/*`]),
        {
          sid: "DenySseS3Writes",
          // State holds secrets: every object is encrypted with KMS (the bucket default), so a client
          // that asks for SSE-S3 (the S3 backend's `encrypt` without a key) is refused, not silently downgraded.
          effect: "Deny",
          actions: ["s3:PutObject"],
          principals: [{ type: "*", identifiers: ["*"] }],
          resources: [`${this.bucket.arn}/*`],
          condition: [{ test: "StringEquals", variable: "s3:x-amz-server-side-encryption", values: ["AES256"] }],
        },
      ]).json,
    });
  }
}
