import type { Color } from "./release-manifest";

/*
 * Every name that more than one part of the system must agree on, in one place: the constructs name
 * their resources with these, the deploy role's grants and the workload boundary are built from
 * them, and the release CLI finds the resources by them. A rename here moves all of them at once.
 */

/** The AWS partition of a region: GovCloud and China regions have their own, and so do their ARNs. */
export function partitionOf(region: string): "aws" | "aws-us-gov" | "aws-cn" {
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("cn-")) return "aws-cn";
  return "aws";
}

/** An ARN in the region's partition; `region` "" for global services (IAM, S3, CloudWatch dashboards). */
export function arnOf(partitionRegion: string, service: string, region: string, account: string, resource: string): string {
  return `arn:${partitionOf(partitionRegion)}:${service}:${region}:${account}:${resource}`;
}

/** The production listener's port: 443 (HTTPS) with a certificate, where 80 only redirects; else 80 (HTTP). */
export const productionListenerPort = (hasCertificate: boolean) => (hasCertificate ? 443 : 80);

/** The prefix of releasedImageTag. */
export const RELEASED_IMAGE_TAG_PREFIX = "release-";

/** The project tag on every resource, and the folder of the environments' state in the state bucket. */
export const PROJECT = "mcp-deploy";

/** Where an environment's Terraform state lives in its state bucket. */
export const stateKey = (environment: string) => `${PROJECT}/${environment}.tfstate`;

/** The prefix of every resource name of one environment's stack. */
export const namePrefix = (environment: string) => `mcp-${environment}`;

export const resourceNames = {
  /** The application load balancer. */
  loadBalancer: (prefix: string) => prefix,
  /** A colour's target group. */
  targetGroup: (prefix: string, color: Color) => `${prefix}-${color}`,
  /** The ECS cluster. */
  cluster: (prefix: string) => prefix,
  /** A colour's ECS service, and its task definition family. */
  service: (prefix: string, color: Color) => `${prefix}-${color}`,
  /** Application Auto Scaling's id of a service's desired count. */
  scalableTarget: (clusterName: string, serviceName: string) => `service/${clusterName}/${serviceName}`,
  /** The composite alarm of a service that the release gates on. */
  unhealthyAlarm: (serviceName: string) => `${serviceName}-unhealthy`,
  /** The log group of a colour's server container; its sidecars' groups sit under it. */
  serviceLogGroup: (prefix: string, color: Color | string) => `/ecs/${prefix}/${color}`,
  /** The awslogs stream prefix of a colour's containers: a task's stream is `<prefix>/<container>/<task id>`. */
  serviceLogStreamPrefix: (color: Color) => color,
  /** A sidecar's log group (`collector`, and `metrics` for the EMF records), under the service's. */
  sidecarLogGroup: (prefix: string, color: Color | string, sidecar: string) => `/ecs/${prefix}/${color}/${sidecar}`,
  /** The VPC's flow log group. */
  flowLogGroup: (prefix: string) => `/vpc/${prefix}/flow-logs`,
  /** The web ACL in front of the load balancer; also its metric name (the WebACL dimension of its metrics). */
  webAcl: (prefix: string) => prefix,
  /** The web ACL's log group: WAF delivers only to log groups named aws-waf-logs-*. */
  webAclLogGroup: (prefix: string) => `aws-waf-logs-${prefix}`,
  /** The alarm on a surge of requests the web ACL blocks. */
  webAclBlockedSurgeAlarm: (prefix: string) => `${prefix}-waf-blocked-surge`,
  /** The alias of the key that encrypts the environment's log groups. */
  logsKeyAlias: (prefix: string) => `alias/${prefix}-logs`,
  /**
   * Every log group the environment's stack creates, as ARN resource patterns: the log key admits
   * CloudWatch Logs for these only. Each construct names its groups with the functions above (the
   * cache's with its replication group id, `<prefix>-cache`).
   */
  environmentLogGroups: (prefix: string) => [`/ecs/${prefix}/*`, `/vpc/${prefix}/*`, `/elasticache/${prefix}-cache/*`, `aws-waf-logs-${prefix}`],
  /** A GitHub Actions role of an environment: its pull requests' plan role, or its deploy role. */
  githubRole: (prefix: string, purpose: "plan" | "deploy") => `github-${prefix}-${purpose}`,
  /** The account's role that pushes the server image from main. */
  imagePushRole: "github-mcp-image-push",
  /** The tag a release puts on every image it deploys, which the repository's lifecycle policy never expires. */
  releasedImageTag: (digest: string) => `${RELEASED_IMAGE_TAG_PREFIX}${digest.replace(/^sha256:/, "").slice(0, 12)}`,
  /** The role the release's verify task runs as: the one role that may read the verifier's OAuth client secret. */
  verifierRole: (prefix: string) => `${prefix}-verifier`,
  /** The permissions boundary of every role of the environment. */
  workloadBoundary: (prefix: string) => `${prefix}-workload-boundary`,
};
