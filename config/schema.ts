import { z } from "zod";
import {
  ALARM_EVALUATION_DEFAULTS,
  AUTOSCALING_DEFAULTS,
  COLOR_ALARM_DEFAULTS,
  EDGE_FIREWALL_DEFAULTS,
  LOAD_BALANCER_ALARM_DEFAULTS,
  LOAD_BALANCER_DEFAULTS,
  LOCK_TIMEOUT_DEFAULT_SECONDS,
  NETWORK_DEFAULTS,
  REDIS_ALARM_DEFAULTS,
  REDIS_DEFAULTS,
  SERVICE_DEFAULTS,
  TARGET_HEALTH_CHECK_DEFAULTS,
  TASK_COUNT_DEFAULTS,
  TELEMETRY_DEFAULTS,
} from "./defaults";
import { contains, overlaps, parseCidr } from "./cidr";
import { namePrefix } from "./names";

/** RFC 1918: addresses an internet-facing load balancer never sees a client come from. */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((text) => parseCidr(text)!);

/** Valid Fargate task sizes: cpu units -> allowed memory (MiB). */
const FARGATE_MEMORY: Record<number, (memory: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Names that suggest a secret; those belong in Secrets Manager, never in plain environment variables. */
export const SECRET_LOOKING_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

const region = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: 'expected an AWS region such as "eu-west-1"' });

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'expected a canonical IPv4 CIDR block such as "10.0.0.0/16" (no host bits set)',
});

const port = z
  .number({ message: "expected a port number" })
  .int({ message: "expected a whole port number" })
  .min(1, { message: "expected a port between 1 and 65535" })
  .max(65535, { message: "expected a port between 1 and 65535" });

const logRetentionDays = z
  .number()
  .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `expected a CloudWatch Logs retention period: one of ${LOG_RETENTION_DAYS.join(", ")}`,
  });

/** A container environment variable's name. */
export const variableName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "expected an UPPER_SNAKE_CASE variable name" });

/** A Secrets Manager secret's ARN, as a pattern to build on. */
const SECRET_ARN = String.raw`arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+`;

/** A Secrets Manager secret (optionally one JSON key of it, `:key::`), as an ECS secret's valueFrom. */
export const secretArn = z.string().regex(new RegExp(String.raw`^${SECRET_ARN}(:[\w-]*:[\w-]*:[\w-]*)?$`), {
  message: "expected a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)",
});

const positiveInt = z.number().int({ message: "expected a whole number" }).min(0, { message: "expected 0 or more" });

const networkSchema = z.strictObject({
  /** IPv4 range of the VPC. */
  vpcCidr: cidr,
  /** Availability zones, named explicitly so no data source has to look them up; one public and one private subnet each. */
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, { message: 'expected an availability zone such as "eu-west-1a"' })),
  /** One public subnet (load balancer, NAT) per availability zone, in the same order. */
  publicSubnetCidrs: z.array(cidr),
  /** One private subnet (tasks, Redis, endpoints) per availability zone, in the same order. */
  privateSubnetCidrs: z.array(cidr),
  /** "one-per-az" survives an AZ outage; "single" saves cost where that is acceptable. */
  natGateways: z.enum(["one-per-az", "single"]).default(NETWORK_DEFAULTS.natGateways),
  /** Interface endpoints for ECR, CloudWatch Logs and Secrets Manager (the S3 gateway endpoint is always on). */
  interfaceEndpoints: z.boolean().default(NETWORK_DEFAULTS.interfaceEndpoints),
  /** Retention of VPC flow logs. */
  flowLogRetentionDays: logRetentionDays.default(NETWORK_DEFAULTS.flowLogRetentionDays),
});

const healthCheckSchema = z.strictObject({
  intervalSeconds: z.number().int().min(5).max(300).default(TARGET_HEALTH_CHECK_DEFAULTS.intervalSeconds),
  timeoutSeconds: z.number().int().min(2).max(120).default(TARGET_HEALTH_CHECK_DEFAULTS.timeoutSeconds),
  healthyThreshold: z.number().int().min(2).max(10).default(TARGET_HEALTH_CHECK_DEFAULTS.healthyThreshold),
  unhealthyThreshold: z.number().int().min(2).max(10).default(TARGET_HEALTH_CHECK_DEFAULTS.unhealthyThreshold),
});

const loadBalancerSchema = z.strictObject({
  /** ACM certificate for the HTTPS listeners; production requires one, staging without one runs HTTP only. */
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, {
      message: "expected an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
    })
    .optional(),
  /** DNS name clients use, on the certificate (point it at the load balancer); production requires it. @default the load balancer's own name */
  hostName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, { message: 'expected a DNS name such as "mcp.example.com"' }).optional(),
  /** Stops an accidental destroy of the load balancer; production requires it. */
  deletionProtection: z.boolean().default(LOAD_BALANCER_DEFAULTS.deletionProtection),
  /** Seconds a connection may sit idle; must stay below the server's keep-alive timeout. */
  idleTimeoutSeconds: z.number().int().min(1).max(4000).default(LOAD_BALANCER_DEFAULTS.idleTimeoutSeconds),
  /** Port of the test listener that reaches the idle colour. */
  testListenerPort: port.default(LOAD_BALANCER_DEFAULTS.testListenerPort),
  /** People who may reach the test listener (a VPN's or an office's public ranges); never the whole internet. The VPC's NAT gateways are always admitted, for in-VPC verify. */
  testListenerCidrs: z.array(cidr).default([]),
  /** Seconds a deregistering target keeps serving in-flight requests. */
  deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(LOAD_BALANCER_DEFAULTS.deregistrationDelaySeconds),
  healthCheck: healthCheckSchema.prefault({}),
  /** Days to keep ALB access logs in S3. */
  accessLogRetentionDays: z.number().int().min(1).default(LOAD_BALANCER_DEFAULTS.accessLogRetentionDays),
});

const firewallSchema = z.strictObject({
  /** A WAF web ACL in front of the load balancer. Off leaves /mcp open to floods, known exploits and bad-reputation addresses (synth warns). */
  enabled: z.boolean().default(true),
  /** Requests one client IP may make in any 5 minutes before it is blocked (429) for a while. */
  rateLimitPer5Minutes: z.number().int().min(10, { message: "expected at least 10, WAF's minimum" }).max(2_000_000_000).default(EDGE_FIREWALL_DEFAULTS.rateLimitPer5Minutes),
  /** Retention of the web ACL's log group (blocked and counted requests). */
  logRetentionDays: logRetentionDays.default(EDGE_FIREWALL_DEFAULTS.logRetentionDays),
});

const serviceSchema = z.strictObject({
  /** Fargate CPU units per task. */
  cpu: z.number().int().default(SERVICE_DEFAULTS.cpu),
  /** Fargate memory (MiB) per task; must be valid for the cpu. */
  memory: z.number().int().default(SERVICE_DEFAULTS.memory),
  /** Port the MCP endpoint listens on (PORT). */
  containerPort: port.default(SERVICE_DEFAULTS.containerPort),
  /** Port of the Prometheus /metrics listener (METRICS_PORT); never routed by the load balancer. */
  metricsPort: port.default(SERVICE_DEFAULTS.metricsPort),
  /** Fewest tasks of a colour that takes traffic. */
  minTasks: z.number().int().min(1, { message: "expected at least 1 task for a colour that takes traffic" }).default(TASK_COUNT_DEFAULTS.minTasks),
  /** Most tasks of a colour. */
  maxTasks: z.number().int().min(1).default(TASK_COUNT_DEFAULTS.maxTasks),
  /** Fewest tasks of the idle colour (0% traffic); a release raises it before shifting traffic. */
  idleMinTasks: positiveInt.default(TASK_COUNT_DEFAULTS.idleMinTasks),
  /** Seconds ECS waits after SIGTERM before SIGKILL; Fargate allows at most 120. */
  stopTimeoutSeconds: z.number().int().min(10).max(120, { message: "expected at most 120 seconds, the Fargate maximum" }).default(SERVICE_DEFAULTS.stopTimeoutSeconds),
  /** Seconds the server keeps serving after SIGTERM so the load balancer deregisters it first. */
  drainDelaySeconds: z.number().int().min(0).default(15),
  /** HTTP keep-alive timeout of the server; must exceed the load balancer's idle timeout. */
  keepAliveTimeoutSeconds: z.number().int().min(1).default(65),
  /** Seconds ECS ignores failing load balancer health checks after a task starts. */
  healthCheckGracePeriodSeconds: z.number().int().min(0).default(SERVICE_DEFAULTS.healthCheckGracePeriodSeconds),
  /** Retention of the service's log group. */
  logRetentionDays: logRetentionDays.default(SERVICE_DEFAULTS.logRetentionDays),
  /** ECS Exec into running tasks; off unless debugging needs it. */
  enableExecuteCommand: z.boolean().default(SERVICE_DEFAULTS.enableExecuteCommand),
  /** Base URL the cached_fetch tool may reach. */
  upstreamUrl: z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }),
  /** Seconds a cached upstream response lives in Redis. */
  cacheTtlSeconds: z.number().int().min(1).default(300),
  /** Server log level. */
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  /** Host names clients use to reach /mcp (the server refuses others); the load balancer's own DNS name is always allowed. */
  allowedHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/, { message: 'expected a host name such as "mcp.example.com"' })).default([]),
  /** Host names of browser origins allowed to call /mcp; non-browser MCP clients send no Origin. @default the server's (localhost only) */
  allowedOrigins: z.array(z.string().regex(/^[a-z0-9.-]+$/, { message: 'expected the host name of an origin, such as "app.example.com"' })).default([]),
  /** Extra plain environment variables; secret-looking names are refused. */
  environment: z.record(variableName, z.string()).default({}),
  /** Variables ECS injects from Secrets Manager: name -> secret ARN (the execution role may read these and no others). */
  secrets: z.record(variableName, secretArn).default({}),
});

const redisSchema = z.strictObject({
  /** Valkey (the open-source fork ElastiCache now leads with) or Redis OSS. */
  engine: z.enum(["valkey", "redis"]).default(REDIS_DEFAULTS.engine),
  /** Engine version, 7.0 or later; its major picks the parameter group family. */
  engineVersion: z
    .string()
    .regex(/^\d+\.\d+$/, { message: 'expected a major.minor engine version such as "8.0"' })
    .refine((v) => Number(v.split(".")[0]) >= 7, { message: "expected 7.0 or later: the server authenticates to the cache with IAM, which older engines lack" })
    .default(REDIS_DEFAULTS.engineVersion),
  /** Node type of every cache node. */
  nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected an ElastiCache node type such as "cache.t4g.small"' }).default(REDIS_DEFAULTS.nodeType),
  /** Read replicas beside the primary; one or more turns on automatic failover and Multi-AZ. */
  replicas: positiveInt.max(5).default(REDIS_DEFAULTS.replicas),
  /** Days of daily snapshots to keep. */
  snapshotRetentionDays: positiveInt.max(35).default(REDIS_DEFAULTS.snapshotRetentionDays),
  /** What Redis evicts when full: LFU keeps entries asked for often over a flood of paths asked for once. */
  maxmemoryPolicy: z
    .enum(["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl", "noeviction"])
    .default(REDIS_DEFAULTS.maxmemoryPolicy),
});

const autoscalingSchema = z.strictObject({
  /** Requests per minute per task that target tracking holds (ALBRequestCountPerTarget). */
  requestsPerTargetPerMinute: z.number().int().min(1).default(AUTOSCALING_DEFAULTS.requestsPerTargetPerMinute),
  /** Percentile of TargetResponseTime that triggers a scale-out. */
  responseTimeStatistic: z.enum(["p90", "p95", "p99"]).default(AUTOSCALING_DEFAULTS.responseTimeStatistic),
  /** Response time (seconds) above which the colour scales out whatever its request rate. */
  responseTimeThresholdSeconds: z.number().positive().default(AUTOSCALING_DEFAULTS.responseTimeThresholdSeconds),
  /** Tasks added each time the response time is too high. */
  responseTimeScaleOutTasks: z.number().int().min(1).default(AUTOSCALING_DEFAULTS.responseTimeScaleOutTasks),
  /** Seconds after a scale-out before another. */
  scaleOutCooldownSeconds: z.number().int().min(0).default(AUTOSCALING_DEFAULTS.scaleOutCooldownSeconds),
  /** Seconds after any scaling before a scale-in. */
  scaleInCooldownSeconds: z.number().int().min(0).default(AUTOSCALING_DEFAULTS.scaleInCooldownSeconds),
});

const alarmsSchema = z.strictObject({
  /** Seconds per datapoint. */
  periodSeconds: z.union([z.literal(10), z.literal(30), z.literal(60), z.literal(300)], { message: "expected 10, 30, 60 or 300" }).default(ALARM_EVALUATION_DEFAULTS.periodSeconds),
  /** Datapoints an alarm looks at. */
  evaluationPeriods: z.number().int().min(1).default(ALARM_EVALUATION_DEFAULTS.evaluationPeriods),
  /** Of those, how many must breach (M of N), so one bad minute does not page anyone. */
  datapointsToAlarm: z.number().int().min(1).default(ALARM_EVALUATION_DEFAULTS.datapointsToAlarm),
  /** Target 5xx responses as a percentage of requests, per colour. */
  target5xxRatePercent: z.number().positive().max(100).default(COLOR_ALARM_DEFAULTS.target5xxRatePercent),
  /** Requests per period below which the 5xx rate is not judged (low traffic would flap). */
  minRequestsForErrorRate: z.number().int().min(1).default(COLOR_ALARM_DEFAULTS.minRequestsForErrorRate),
  /** p99 TargetResponseTime (seconds) per colour. */
  p99ResponseTimeSeconds: z.number().positive().default(COLOR_ALARM_DEFAULTS.p99ResponseTimeSeconds),
  /** ECS CPU utilisation (%) per colour. */
  cpuPercent: z.number().positive().max(100).default(COLOR_ALARM_DEFAULTS.cpuPercent),
  /** ECS memory utilisation (%) per colour. */
  memoryPercent: z.number().positive().max(100).default(COLOR_ALARM_DEFAULTS.memoryPercent),
  /** 5xx responses the load balancer itself generates per period. */
  elb5xxCount: z.number().int().min(0).default(LOAD_BALANCER_ALARM_DEFAULTS.elb5xxCount),
  /** Connections the load balancer rejects per period (any is a capacity problem). */
  rejectedConnections: z.number().int().min(0).default(LOAD_BALANCER_ALARM_DEFAULTS.rejectedConnections),
  /** Redis engine thread CPU (%). */
  redisEngineCpuPercent: z.number().positive().max(100).default(REDIS_ALARM_DEFAULTS.engineCpuPercent),
  /** Redis host CPU (%). */
  redisCpuPercent: z.number().positive().max(100).default(REDIS_ALARM_DEFAULTS.cpuPercent),
  /** Redis memory used of maxmemory (%). */
  redisMemoryPercent: z.number().positive().max(100).default(REDIS_ALARM_DEFAULTS.memoryPercent),
  /** Keys Redis evicts per period. */
  redisEvictions: z.number().int().min(0).default(REDIS_ALARM_DEFAULTS.evictions),
  /** Seconds a replica lags the primary. */
  redisReplicationLagSeconds: z.number().positive().default(REDIS_ALARM_DEFAULTS.replicationLagSeconds),
  /** Client connections per Redis node. */
  redisConnections: z.number().int().min(1).default(REDIS_ALARM_DEFAULTS.connections),
  /** Cache operations failing (%), from the server's own metrics. */
  cacheErrorRatePercent: z.number().positive().max(100).default(COLOR_ALARM_DEFAULTS.cacheErrorRatePercent),
  /** Requests the web ACL blocks per period that count as a surge (an attack, a scanner, or a rule refusing real clients). */
  wafBlockedRequests: z.number().int().min(0).default(EDGE_FIREWALL_DEFAULTS.blockedRequestsThreshold),
  /** Email addresses subscribed to the alarm topic (each must confirm). */
  emails: z.array(z.email({ message: "expected an email address" })).default([]),
  /** HTTPS endpoints (chat-ops webhooks, paging services) subscribed to the alarm topic. */
  httpsEndpoints: z.array(z.url({ protocol: /^https$/, message: "expected an https:// URL" })).default([]),
});

const observabilitySchema = z.strictObject({
  /** AWS Distro for OpenTelemetry collector image, pinned. */
  collectorImage: z.string().regex(/^[\w./-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/, { message: "expected a collector image pinned to a version, such as public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3" }).default(TELEMETRY_DEFAULTS.image),
  /** CloudWatch namespace of the server's own metrics. */
  metricsNamespace: z.string().regex(/^[A-Za-z0-9_./#:-]{1,255}$/).default(TELEMETRY_DEFAULTS.namespace),
  /** Seconds between scrapes of the server's /metrics. */
  scrapeIntervalSeconds: z.number().int().min(5).max(300).default(TELEMETRY_DEFAULTS.scrapeIntervalSeconds),
  /** Encrypt every log group with the environment's own KMS key (a CMK, about $1 a month); see logsEncrypted. @default true in production, false elsewhere */
  encryptLogs: z.boolean().optional(),
});

/** An OAuth scope token (RFC 6749 section 3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { message: "expected one OAuth scope, such as \"mcp:tools\" (no spaces or quotes)" });

const authSchema = z.strictObject({
  /** The authorization server's issuer: every token's `iss`, and where the verifier finds its token endpoint (OAuth or OpenID metadata). */
  issuer: z.url({ protocol: /^https$/, message: "expected the issuer's https:// URL, exactly as tokens carry it in iss" }),
  /** Every token's `aud`: the identifier the issuer gives this MCP server (often https://<hostName>/mcp). */
  audience: z.string().min(1, { message: "expected the audience tokens carry in aud" }),
  /** The issuer's signing keys (its metadata's jwks_uri). */
  jwksUrl: z.url({ protocol: /^https$/, message: "expected the issuer's https:// JWKS URL (jwks_uri in its metadata)" }),
  /** Scopes every token must carry; the server answers 403 insufficient_scope without them. */
  requiredScopes: z.array(scope).default([]),
  /** The OAuth client that release verification signs in as, with the client-credentials grant. */
  verifier: z.strictObject({
    /** The client's id at the issuer (not a secret). */
    clientId: z.string().min(1),
    /** Secrets Manager secret whose plain-text value is the client secret, named `mcp-<environment>/...`; only the environment's verifier role may read it. */
    clientSecretArn: z.string().regex(new RegExp(`^${SECRET_ARN}$`), {
      message: "expected a Secrets Manager secret ARN whose whole value is the client secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>, no JSON key)",
    }),
    /** Scopes the verifier asks for. @default requiredScopes */
    scopes: z.array(scope).optional(),
  }),
});

const service = serviceSchema.shape;
const observability = observabilitySchema.shape;

/**
 * What shapes one colour's task definition, as the release manifest records it next to the
 * colour's image: `release deploy` copies it from the config to the idle colour only, so a config
 * change reaches traffic through deploy, verify and promote. The fields take the config's own
 * rules, without its defaults (the pipeline writes every field).
 */
export const taskSettingsSchema = z
  .strictObject({
    cpu: service.cpu.unwrap(),
    memory: service.memory.unwrap(),
    containerPort: service.containerPort.unwrap(),
    metricsPort: service.metricsPort.unwrap(),
    stopTimeoutSeconds: service.stopTimeoutSeconds.unwrap(),
    enableExecuteCommand: service.enableExecuteCommand.unwrap(),
    /** The server's variables from the config (UPSTREAM_URL, LOG_LEVEL, service.environment, ...). */
    environment: z.record(variableName, z.string()),
    secrets: service.secrets.unwrap(),
    allowedHosts: service.allowedHosts.unwrap(),
    collectorImage: observability.collectorImage.unwrap(),
    metricsNamespace: observability.metricsNamespace.unwrap(),
    scrapeIntervalSeconds: observability.scrapeIntervalSeconds.unwrap(),
  })
  .superRefine((task, ctx) => {
    const size = fargateSizeProblem(task.cpu, task.memory);
    if (size) ctx.addIssue({ code: "custom", path: [size.field], message: size.message });
    for (const name of Object.keys(task.environment)) {
      if (SECRET_LOOKING_NAME.test(name)) ctx.addIssue({ code: "custom", path: ["environment", name], message: "looks like a secret: keep secrets in Secrets Manager (secrets)" });
    }
  });

export type TaskSettings = z.output<typeof taskSettingsSchema>;

/**
 * Task settings that both colours share, because something besides the task reads them: the
 * target groups and security groups (containerPort), the dashboard (metricsNamespace). The colours
 * must agree on them, so they change only for both colours at once.
 */
export const SHARED_TASK_SETTINGS = ["containerPort", "metricsNamespace"] as const satisfies readonly (keyof TaskSettings)[];

const releaseSchema = z.strictObject({
  /** Production traffic (%) on the new colour after each promotion step; rising, ending at 100. */
  steps: z
    .array(z.number().int().min(1).max(100))
    .min(1)
    .refine((steps) => steps.every((s, i) => i === 0 || s > steps[i - 1]) && steps[steps.length - 1] === 100, {
      message: "expected rising percentages ending at 100, such as [10, 50, 100]",
    })
    .default([10, 50, 100]),
  /** Seconds each step bakes while the new colour's alarm and target health are watched. */
  bakeSeconds: z.number().int().min(0).default(300),
  /** Seconds a deploy waits for every target of the new colour to turn healthy. */
  healthyTimeoutSeconds: z.number().int().min(30).default(600),
  /** Seconds the in-VPC verify task may take, from RunTask to its exit (Fargate start included). */
  verifyTimeoutSeconds: z.number().int().min(60).default(300),
  /** Seconds every Terraform plan and apply of a release or deploy waits for the state lock another run holds (-lock-timeout). */
  lockTimeoutSeconds: z.number().int().min(0).max(3600).default(LOCK_TIMEOUT_DEFAULT_SECONDS),
});

export const environmentSchema = z
  .strictObject({
    /** Environment name; must match the config file's name. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, { message: "expected lower-case letters, digits and dashes (2-21 characters)" }),
    /** "production" turns on the strict rules: HTTPS, deletion protection, Redis failover. */
    tier: z.enum(["production", "non-production"]),
    aws: z.strictObject({
      /** The only account this stack may be applied to. */
      accountId: z.string().regex(/^\d{12}$/, { message: "expected a 12-digit AWS account id" }),
      region,
      /** GitHub's OIDC provider, when the account has one already (an account holds one per issuer); the bootstrap stack creates it otherwise. */
      githubOidcProviderArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/, { message: "expected the ARN of token.actions.githubusercontent.com's OIDC provider" })
        .optional(),
    }),
    /** GitHub repository (owner/name) that owns this deployment; tags every resource. */
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { message: 'expected "owner/name"' }),
    /** Where Terraform keeps state: an S3 bucket (made by the bootstrap stack). */
    stateBackend: z.strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "expected an S3 bucket name (3-63 lower-case letters, digits, dots, dashes)" }),
      region,
    }),
    network: networkSchema,
    loadBalancer: loadBalancerSchema,
    /** The WAF in front of the load balancer. */
    firewall: firewallSchema.prefault({}),
    service: serviceSchema,
    redis: redisSchema.prefault({}),
    autoscaling: autoscalingSchema.prefault({}),
    alarms: alarmsSchema.prefault({}),
    observability: observabilitySchema.prefault({}),
    /** JWT authentication of /mcp: required in production, and only over HTTPS. @default none (anyone who reaches the endpoint may call it) */
    auth: authSchema.optional(),
    /** How the release CLI promotes a new version. */
    release: releaseSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    checkNetwork(config.network, config.aws.region, issue);
    checkService(config, issue);
    checkObservability(config, issue);
    checkAuth(config, issue);
    checkProductionRules(config, issue);
  });

type Issue = (path: (string | number)[], message: string) => void;
type Config = z.output<typeof environmentSchema>;

function checkNetwork(network: Config["network"], awsRegion: string, issue: Issue): void {
  const azs = network.availabilityZones;
  if (azs.length < 2) issue(["network", "availabilityZones"], "expected two or more availability zones: the load balancer and Redis failover need them");
  azs.forEach((az, i) => {
    if (!az.startsWith(awsRegion)) issue(["network", "availabilityZones", i], `expected a zone of region ${awsRegion}, got "${az}"`);
    if (azs.indexOf(az) !== i) issue(["network", "availabilityZones", i], `"${az}" is listed twice`);
  });
  for (const key of ["publicSubnetCidrs", "privateSubnetCidrs"] as const) {
    if (network[key].length !== azs.length) {
      issue(["network", key], `expected one subnet per availability zone (${azs.length}), got ${network[key].length}`);
    }
  }
  const vpc = parseCidr(network.vpcCidr);
  const subnets = [
    ...network.publicSubnetCidrs.map((c, i) => ({ path: ["network", "publicSubnetCidrs", i], text: c, block: parseCidr(c) })),
    ...network.privateSubnetCidrs.map((c, i) => ({ path: ["network", "privateSubnetCidrs", i], text: c, block: parseCidr(c) })),
  ];
  subnets.forEach((subnet, i) => {
    if (!vpc || !subnet.block) return;
    if (!contains(vpc, subnet.block)) issue(subnet.path, `expected a subnet inside the VPC ${network.vpcCidr}, got ${subnet.text}`);
    if (subnet.block.prefix > 28) issue(subnet.path, `expected a /28 or larger subnet, got ${subnet.text}`);
    const clash = subnets.slice(0, i).find((other) => other.block && overlaps(other.block, subnet.block!));
    if (clash) issue(subnet.path, `${subnet.text} overlaps ${clash.text} (${clash.path.join(".")}); give each subnet its own range`);
  });
}

/** Why cpu and memory are not a Fargate task size (and which of the two to change), or undefined. */
export function fargateSizeProblem(cpu: number, memory: number): { field: "cpu" | "memory"; message: string } | undefined {
  if (!FARGATE_MEMORY[cpu]) return { field: "cpu", message: `expected a Fargate cpu value (${Object.keys(FARGATE_MEMORY).join(", ")}), got ${cpu}` };
  if (!FARGATE_MEMORY[cpu](memory)) return { field: "memory", message: `${memory} MiB is not a valid Fargate memory size for ${cpu} cpu units; see the Fargate task size table` };
  return undefined;
}

function checkService(config: Config, issue: Issue): void {
  const { service, loadBalancer } = config;
  const size = fargateSizeProblem(service.cpu, service.memory);
  if (size) issue(["service", size.field], size.message);
  if (service.minTasks > service.maxTasks) issue(["service", "minTasks"], `expected minTasks (${service.minTasks}) <= maxTasks (${service.maxTasks})`);
  if (service.idleMinTasks > service.minTasks) issue(["service", "idleMinTasks"], `expected idleMinTasks (${service.idleMinTasks}) <= minTasks (${service.minTasks})`);
  if (service.metricsPort === service.containerPort) issue(["service", "metricsPort"], "expected a port other than containerPort: metrics must not be reachable through the load balancer");
  if ([80, 443].includes(loadBalancer.testListenerPort)) issue(["loadBalancer", "testListenerPort"], "expected a port other than 80 and 443, which the production listeners use");
  if (loadBalancer.deregistrationDelaySeconds >= service.stopTimeoutSeconds) {
    issue(["loadBalancer", "deregistrationDelaySeconds"], `expected less than service.stopTimeoutSeconds (${service.stopTimeoutSeconds}) so a task is deregistered before it is killed`);
  }
  if (service.drainDelaySeconds >= service.stopTimeoutSeconds) {
    issue(["service", "drainDelaySeconds"], `expected less than service.stopTimeoutSeconds (${service.stopTimeoutSeconds}) so in-flight requests can finish`);
  }
  if (service.keepAliveTimeoutSeconds <= loadBalancer.idleTimeoutSeconds) {
    issue(["service", "keepAliveTimeoutSeconds"], `expected more than loadBalancer.idleTimeoutSeconds (${loadBalancer.idleTimeoutSeconds}); otherwise the server closes connections the load balancer still uses (502s)`);
  }
  loadBalancer.testListenerCidrs.forEach((text, i) => {
    const range = parseCidr(text);
    if (range?.prefix === 0) issue(["loadBalancer", "testListenerCidrs", i], "the test listener must not be open to the whole internet; list the CI or VPN ranges");
    else if (range && PRIVATE_RANGES.some((p) => overlaps(p, range))) {
      issue(["loadBalancer", "testListenerCidrs", i], `${text} is a private range, but the load balancer is internet-facing and sees public addresses only; in-VPC clients arrive from the NAT gateways, which the test listener admits already. List public ranges or remove it`);
    }
  });
  for (const name of Object.keys(service.environment)) {
    if (SECRET_LOOKING_NAME.test(name)) issue(["service", "environment", name], "looks like a secret: keep secrets in Secrets Manager and inject them as ECS secrets (service.secrets)");
    if (name in service.secrets) issue(["service", "environment", name], "is also in service.secrets; a variable is either plain or a secret");
  }
}

function checkObservability(config: Config, issue: Issue): void {
  if (config.alarms.datapointsToAlarm > config.alarms.evaluationPeriods) {
    issue(["alarms", "datapointsToAlarm"], `expected at most alarms.evaluationPeriods (${config.alarms.evaluationPeriods})`);
  }
}

function checkAuth(config: Config, issue: Issue): void {
  const { auth } = config;
  if (!auth) return;
  // Bearer tokens are credentials: over plain HTTP anyone on the path could replay them.
  if (!config.loadBalancer.certificateArn) issue(["auth"], "JWT auth needs HTTPS, or bearer tokens cross the internet in cleartext: set loadBalancer.certificateArn, or remove auth");
  const secret = auth.verifier.clientSecretArn.split(":");
  const prefix = `${namePrefix(config.name)}/`;
  if (secret[3] !== config.aws.region || secret[4] !== config.aws.accountId) {
    issue(["auth", "verifier", "clientSecretArn"], `expected a secret in this environment's account and region (${config.aws.accountId}, ${config.aws.region})`);
  } else if (!secret[6]?.startsWith(prefix)) {
    issue(["auth", "verifier", "clientSecretArn"], `expected a secret named ${prefix}...: the environment's roles may read only its own secrets (the workload boundary)`);
  }
}

function checkProductionRules(config: Config, issue: Issue): void {
  if (config.tier !== "production") return;
  if (!config.loadBalancer.certificateArn) issue(["loadBalancer", "certificateArn"], "production requires an ACM certificate: set loadBalancer.certificateArn");
  if (!config.loadBalancer.hostName) issue(["loadBalancer", "hostName"], "production requires the DNS name on its certificate: set loadBalancer.hostName");
  if (!config.loadBalancer.deletionProtection) issue(["loadBalancer", "deletionProtection"], "production requires deletionProtection: true");
  if (config.redis.replicas < 1) issue(["redis", "replicas"], "production requires at least 1 replica so Redis fails over automatically");
  if (!config.auth) issue(["auth"], "production requires authentication: set auth (issuer, audience, jwksUrl and the verifier's client); see the README's Security section");
}

/** Whether the environment's log groups use its own KMS key: observability.encryptLogs, else production only. */
export const logsEncrypted = (config: Config): boolean => config.observability.encryptLogs ?? config.tier === "production";

/** A validated environment, with every default filled in. */
export type EnvironmentConfig = z.output<typeof environmentSchema>;
/** An environment as written in config/environments/<name>.json. */
export type EnvironmentConfigInput = z.input<typeof environmentSchema>;
