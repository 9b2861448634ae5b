import { LOAD_BALANCER_DEFAULTS } from "../config/defaults";
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { denyInsecureTransport, policyDocument } from "./iam";

export interface AccessLogBucketProps {
  /** Prefix of the bucket name (AWS appends a unique suffix). Required. */
  readonly name: string;
  /** Region of the load balancer that writes here, to pick its log-delivery account. Required. */
  readonly region: string;
  /** Key prefix the load balancer writes under. @default "alb" */
  readonly prefix?: string;
  /** Days before log objects expire. @default 90 */
  readonly retentionDays?: number;
  /** Let `terraform destroy` delete a bucket that still holds logs. @default false */
  readonly forceDestroy?: boolean;
}

/**
 * Elastic Load Balancing's log-delivery accounts for regions opened before August 2022; newer
 * regions accept the log-delivery service principal, which the policy also names.
 */
const ELB_LOG_ACCOUNTS: Record<string, string> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "eu-north-1": "897822967062",
  "ap-south-1": "718504428378",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "sa-east-1": "507241528517",
};

/** An S3 bucket for load balancer access logs: encrypted (SSE-S3, all ALB logging supports), private, TLS-only, expiring. */
export class AccessLogBucket extends Construct {
  public readonly bucket: S3Bucket;
  public readonly prefix: string;
  /** The bucket policy; a load balancer must depend on it before it is told to write here. */
  public readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    super(scope, id);
    this.prefix = props.prefix ?? "alb";
    this.bucket = new S3Bucket(this, "bucket", { bucketPrefix: `${props.name}-logs-`, forceDestroy: props.forceDestroy ?? false });
    new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.retentionDays ?? LOAD_BALANCER_DEFAULTS.accessLogRetentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });

    const writers = [{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }];
    const elbAccount = ELB_LOG_ACCOUNTS[props.region];
    if (elbAccount) writers.push({ type: "AWS", identifiers: [elbAccount] });
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: policyDocument(this, "policy-document", [
        { sid: "LoadBalancerLogDelivery", actions: ["s3:PutObject"], principals: writers, resources: [`${this.bucket.arn}/${this.prefix}/AWSLogs/*`] },
        denyInsecureTransport(["s3:*"], [this.bucket.arn, `${this.bucket.arn}/*`]),
      ]).json,
    });
  }
}
