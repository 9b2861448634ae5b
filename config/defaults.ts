/*
 * Every default of a construct prop that an environment's config can also set, in one place: the
 * constructs apply these when a prop is not given, and the config schema fills a field left out of
 * a config file with the same value. A construct's @default doc states the value; this is where it
 * is set. (Defaults that only a construct has, such as the ECR lifecycle's image count, stay in it.)
 */

export const NETWORK_DEFAULTS = { natGateways: "one-per-az", interfaceEndpoints: true, flowLogRetentionDays: 90 } as const;

export const TARGET_HEALTH_CHECK_DEFAULTS = { path: "/health/ready", intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

export const LOAD_BALANCER_DEFAULTS = {
  testListenerPort: 8443,
  deletionProtection: true,
  idleTimeoutSeconds: 60,
  deregistrationDelaySeconds: 30,
  accessLogRetentionDays: 90,
  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
} as const;

export const SERVICE_DEFAULTS = {
  cpu: 512,
  memory: 1024,
  containerPort: 8080,
  metricsPort: 9464,
  stopTimeoutSeconds: 120,
  healthCheckGracePeriodSeconds: 60,
  logRetentionDays: 30,
  enableExecuteCommand: false,
  desiredCount: 1,
  cpuArchitecture: "X86_64",
  healthCheckCommand: ["CMD", "node", "/app/dist/healthcheck.js"],
} as const;

/** The reference server's MAX_BODY_BYTES default (server/src/config.ts): the web ACL refuses a longer declared body. test/image-contract.test.ts holds the two equal. */
export const SERVER_MAX_BODY_BYTES = 1024 * 1024;

/** The web ACL in front of the load balancer. */
export const EDGE_FIREWALL_DEFAULTS = { rateLimitPer5Minutes: 2000, logRetentionDays: 90, blockedRequestsThreshold: 500 } as const;

/** The image's verify entry point (docs/image-contract.md): run with the test listener's MCP URL, it exits 0 when its own colour and version answer there. */
export const IMAGE_VERIFY_COMMAND = ["node", "/app/dist/verify.js"] as const;

/** Task counts of a colour: with traffic, without, and at most. */
export const TASK_COUNT_DEFAULTS = { minTasks: 2, idleMinTasks: 1, maxTasks: 10 } as const;

export const REDIS_DEFAULTS = {
  engine: "valkey",
  engineVersion: "8.0",
  nodeType: "cache.t4g.small",
  replicas: 1,
  snapshotRetentionDays: 7,
  maxmemoryPolicy: "allkeys-lfu",
  logRetentionDays: 30,
} as const;

export const AUTOSCALING_DEFAULTS = {
  requestsPerTargetPerMinute: 1000,
  responseTimeStatistic: "p95",
  responseTimeThresholdSeconds: 1,
  responseTimeScaleOutTasks: 2,
  scaleOutCooldownSeconds: 60,
  scaleInCooldownSeconds: 300,
} as const;

export const TELEMETRY_DEFAULTS = {
  image: "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3",
  namespace: "MCPServer",
  scrapeIntervalSeconds: 30,
} as const;

/** How every alarm evaluates. */
export const ALARM_EVALUATION_DEFAULTS = { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 } as const;

export const COLOR_ALARM_DEFAULTS = { target5xxRatePercent: 5, minRequestsForErrorRate: 50, p99ResponseTimeSeconds: 2, cpuPercent: 80, memoryPercent: 85, cacheErrorRatePercent: 5 } as const;

export const LOAD_BALANCER_ALARM_DEFAULTS = { elb5xxCount: 10, rejectedConnections: 0 } as const;

export const REDIS_ALARM_DEFAULTS = { engineCpuPercent: 80, cpuPercent: 90, memoryPercent: 80, evictions: 1000, replicationLagSeconds: 10, connections: 5000 } as const;

/** How long a Terraform plan or apply waits for the state lock that another run holds (release.lockTimeoutSeconds). */
export const LOCK_TIMEOUT_DEFAULT_SECONDS = 300;

type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T extends readonly (infer U)[] ? Widen<U>[] : T;

/**
 * `props` over `defaults`, where a prop given as undefined counts as not given: each default is
 * applied once, at the top of a constructor, whoever passed the prop on (McpDeployment forwards
 * optional config fields as they are).
 */
export function withDefaults<D extends object, P extends object>(defaults: D, props: P): Omit<P, keyof D> & { [K in keyof D]-?: K extends keyof P ? Exclude<P[K], undefined> : Widen<D[K]> } {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(props)) if (value !== undefined) out[key] = value;
  return out as never;
}
