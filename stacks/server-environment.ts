import type { EnvironmentConfig } from "../config/schema";

/**
 * The image contract's plain environment variables that come from one environment's config (the
 * README's server configuration table lists them all); McpService adds those derived from its own
 * props, and each sidecar those it needs. None is a secret: the server signs its own Redis token
 * with the task role.
 */
export interface ServerWiring {
  readonly redisUrl: string;
  /** ElastiCache user the server authenticates as with IAM, and the replication group it signs for. */
  readonly redisUser: string;
  readonly redisCacheId: string;
  readonly loadBalancerDnsName: string;
  /** The production listener's public URL: the MCP resource the 401 challenge names is `<it>/mcp`. */
  readonly publicUrl: string;
}

export function serverEnvironment(config: EnvironmentConfig, wiring: ServerWiring): Record<string, string> {
  const svc = config.service;
  const keepAliveMs = svc.keepAliveTimeoutSeconds * 1000;
  return {
    ...svc.environment,
    REDIS_URL: wiring.redisUrl,
    REDIS_IAM_USER: wiring.redisUser,
    REDIS_IAM_CACHE_ID: wiring.redisCacheId,
    AWS_REGION: config.aws.region,
    UPSTREAM_URL: svc.upstreamUrl,
    CACHE_TTL_SECONDS: String(svc.cacheTtlSeconds),
    LOG_LEVEL: svc.logLevel,
    ALLOWED_HOSTS: [wiring.loadBalancerDnsName, ...(config.loadBalancer.hostName ? [config.loadBalancer.hostName] : []), ...svc.allowedHosts].join(","),
    // Configured rather than read from Host or X-Forwarded-Proto, which clients can forge.
    MCP_RESOURCE_URL: `${wiring.publicUrl}/mcp`,
    ...(svc.allowedOrigins.length > 0 ? { ALLOWED_ORIGINS: svc.allowedOrigins.join(",") } : {}),
    // Above the load balancer's idle timeout, so the server never closes a connection the ALB may reuse.
    KEEP_ALIVE_TIMEOUT_MS: String(keepAliveMs),
    HEADERS_TIMEOUT_MS: String(keepAliveMs + 1000),
    DRAIN_DELAY_SECONDS: String(svc.drainDelaySeconds),
  };
}
