// The construct library: the whole pattern (McpDeployment), every building block, and the names
// they share. The stacks and the release CLI of this repository are an app built on it, not part of the package.
export * from "./config/names";
export * from "./config/release-manifest";
export * from "./constructs/access-log-bucket";
export * from "./constructs/alarm-topic";
export * from "./constructs/alarm";
export * from "./constructs/blue-green-load-balancer";
export * from "./constructs/color-alarms";
export * from "./constructs/color-deployment";
export * from "./constructs/deployer-permissions";
export * from "./constructs/environment-deployer-roles";
export * from "./constructs/github-actions-role";
export * from "./constructs/github-oidc-provider";
export * from "./constructs/iam";
export * from "./constructs/image-repository";
export * from "./constructs/load-balancer-alarms";
export * from "./constructs/mcp-dashboard";
export * from "./constructs/mcp-deployment";
export * from "./constructs/mcp-service";
export * from "./constructs/network";
export * from "./constructs/redis-alarms";
export * from "./constructs/redis-cache";
export * from "./constructs/service-autoscaling";
export * from "./constructs/service-cluster";
export * from "./constructs/state-bucket";
export * from "./constructs/telemetry-sidecar";
export * from "./constructs/workload-permissions-boundary";
