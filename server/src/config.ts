import { z } from 'zod';

// Booleans from the environment: only explicit words, so a typo is an error rather than `false`.
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const seconds = (def: number, max: number) => z.coerce.number().min(0).max(max).default(def);

const list = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** The samplers the OpenTelemetry Node SDK accepts in OTEL_TRACES_SAMPLER. */
const SAMPLERS = ['parentbased_traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'traceidratio', 'always_on', 'always_off'] as const;

/**
 * The share of requests without a traceparent that are traced by default: 1%, still a few traces a
 * second per task at a few hundred requests a second. Every request keeps its log line and metrics.
 * Each sampled span is held until its export batch leaves, and at 10% that kept cache-hit
 * throughput at 0.79 to 0.82 of the bare server against 0.86 to 0.88 at 1% (BENCH.md); X-Ray also
 * bills per trace recorded.
 */
const DEFAULT_TRACE_RATIO = 0.01;

const ELASTICACHE_ID = /^[a-zA-Z][a-zA-Z0-9-]{0,39}$/;

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

const schema = z
  .object({
    PORT: int(8080, 1, 65535),
    METRICS_PORT: int(9464, 1, 65535),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DEPLOYMENT_COLOR: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a short lowercase name such as blue or green')
      .default('local'),
    APP_VERSION: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/, 'must be a version or image tag (letters, digits, . _ + -)')
      .default('dev'),

    REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).default('redis://127.0.0.1:6379'),
    REDIS_AUTH_TOKEN: z.string().min(1).optional(),
    // ElastiCache IAM authentication: the user and the replication group the token is signed for.
    REDIS_IAM_USER: z.string().regex(ELASTICACHE_ID, 'must be an ElastiCache user id (a letter, then letters, digits or hyphens)').optional(),
    REDIS_IAM_CACHE_ID: z.string().regex(ELASTICACHE_ID, 'must be a replication group id (a letter, then letters, digits or hyphens)').optional(),
    AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-west-1').optional(),
    REDIS_REQUIRED: bool(false),
    REDIS_CONNECT_TIMEOUT_MS: int(1000, 50, 60_000),
    REDIS_COMMAND_TIMEOUT_MS: int(250, 10, 60_000),
    REDIS_HEALTH_TIMEOUT_MS: int(500, 10, 60_000),

    CACHE_TTL_SECONDS: int(60, 1, 30 * 86400),
    CACHE_STALE_TTL_SECONDS: int(86400, 0, 30 * 86400),

    UPSTREAM_URL: httpUrl,
    UPSTREAM_TIMEOUT_MS: int(5000, 10, 120_000),
    UPSTREAM_MAX_BYTES: int(1024 * 1024, 1, 64 * 1024 * 1024),

    BREAKER_ERROR_THRESHOLD_PERCENT: int(50, 1, 100),
    BREAKER_VOLUME_THRESHOLD: int(5, 1, 100_000),
    BREAKER_ROLLING_WINDOW_MS: int(10_000, 100, 600_000),
    BREAKER_RESET_TIMEOUT_MS: int(10_000, 10, 600_000),
    BREAKER_MAX_PATHS: int(1000, 1, 100_000),

    REQUEST_TIMEOUT_MS: int(15_000, 100, 600_000),
    MAX_BODY_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
    MAX_JSON_DEPTH: int(64, 2, 10_000),
    // A body trickled in slowly holds its connection and its bytes: 1 MiB in 10 s is 100 KiB/s.
    BODY_TIMEOUT_MS: int(10_000, 100, 600_000),
    MAX_BUFFERED_BYTES: int(64 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    MAX_CONNECTIONS: int(1024, 1, 1_000_000),
    KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1000, 600_000),
    HEADERS_TIMEOUT_MS: int(66_000, 1000, 600_000),
    DRAIN_DELAY_SECONDS: seconds(5, 300),
    STOP_TIMEOUT_SECONDS: seconds(30, 600),

    ALLOWED_HOSTS: list('localhost,127.0.0.1,[::1]'),
    ALLOWED_ORIGINS: list('localhost,127.0.0.1,[::1]'),

    AUTH_MODE: z.enum(['none', 'jwt']).default('none'),
    JWKS_URL: httpUrl.optional(),
    JWKS_CACHE_SECONDS: int(600, 1, 86_400),
    JWKS_MAX_STALE_SECONDS: int(6 * 3600, 0, 7 * 86_400),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    /** Scopes every token must carry (space- or comma-separated); the protected-resource metadata lists them. */
    JWT_REQUIRED_SCOPES: z.string().default('').transform((v) => v.split(/[\s,]+/).filter(Boolean)),
    MCP_RESOURCE_URL: httpUrl.optional(),

    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
    /** The OpenTelemetry switch: true turns tracing off even with an endpoint set. */
    OTEL_SDK_DISABLED: bool(false),
    // Checked here because the SDK logs a bad value and falls back to tracing every request.
    OTEL_TRACES_SAMPLER: z.enum(SAMPLERS, { message: `must be one of ${SAMPLERS.join(', ')}` }).default('parentbased_traceidratio'),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ message: 'must be a number from 0 to 1' }).min(0).max(1).default(DEFAULT_TRACE_RATIO),
  })
  .superRefine((c, ctx) => {
    if (c.HEADERS_TIMEOUT_MS <= c.KEEP_ALIVE_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT_MS'], message: 'must be greater than KEEP_ALIVE_TIMEOUT_MS' });
    }
    if (c.MAX_BUFFERED_BYTES < c.MAX_BODY_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['MAX_BUFFERED_BYTES'], message: 'must be at least MAX_BODY_BYTES, or no body of the largest allowed size could ever be read' });
    }
    if (c.STOP_TIMEOUT_SECONDS <= c.DRAIN_DELAY_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['STOP_TIMEOUT_SECONDS'], message: 'must be greater than DRAIN_DELAY_SECONDS' });
    }
    if (c.REDIS_IAM_USER) {
      for (const k of ['REDIS_IAM_CACHE_ID', 'AWS_REGION'] as const) {
        if (!c[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'required when REDIS_IAM_USER is set' });
      }
      if (c.REDIS_AUTH_TOKEN) ctx.addIssue({ code: 'custom', path: ['REDIS_AUTH_TOKEN'], message: 'unset it: REDIS_IAM_USER authenticates with IAM instead' });
      // ElastiCache accepts IAM authentication only over TLS.
      if (!c.REDIS_URL.startsWith('rediss://')) ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'must be rediss:// when REDIS_IAM_USER is set (IAM authentication requires TLS)' });
    }
    if (c.AUTH_MODE === 'jwt') {
      for (const k of ['JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE'] as const) {
        if (!c[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'required when AUTH_MODE=jwt' });
      }
      // Not derived from Host or X-Forwarded-Proto, which any client can forge into the 401 challenge.
      if (!c.MCP_RESOURCE_URL) ctx.addIssue({ code: 'custom', path: ['MCP_RESOURCE_URL'], message: 'required when AUTH_MODE=jwt: the public URL of /mcp, such as https://mcp.example.com/mcp' });
    }
  });

export type Config = z.infer<typeof schema>;

/** Every variable the server reads itself (telemetry.ts and the OTLP exporter read the other OTEL_* ones). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid configuration: ${variable}: ${detail}`);
  }
}

/** Parses the environment; throws a ConfigError naming the first bad variable (never its value, which may be a secret). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as with `-e FOO=` in a task definition.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const detail = issue.code === 'invalid_type' && input[variable] === undefined ? 'is required' : issue.message;
  throw new ConfigError(variable, detail);
}
