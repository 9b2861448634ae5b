import type { EnvironmentConfig } from "../config/schema";

/** The image contract's plain environment variables, from an environment's config. Secrets go separately. */
export function serverEnvironment(config: EnvironmentConfig, redisUrl: string): Record<string, string> {
  const svc = config.service;
  return {
    ...svc.environment,
    REDIS_URL: redisUrl,
    UPSTREAM_URL: svc.upstreamUrl,
    CACHE_TTL_SECONDS: String(svc.cacheTtlSeconds),
    LOG_LEVEL: svc.logLevel,
    DRAIN_DELAY_SECONDS: String(svc.drainDelaySeconds),
    KEEP_ALIVE_TIMEOUT_SECONDS: String(svc.keepAliveTimeoutSeconds),
    STOP_TIMEOUT_SECONDS: String(svc.stopTimeoutSeconds),
  };
}
