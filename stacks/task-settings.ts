import type { EnvironmentConfig, TaskSettings } from "../config/schema";

/**
 * The task settings an environment's config asks for now: what `release deploy` records for the
 * idle colour (and `release settings --both-colours` for both). The stack builds each colour from
 * the settings its manifest records, never from the config directly.
 */
export function taskSettings(config: EnvironmentConfig): TaskSettings {
  const { service, observability } = config;
  return {
    cpu: service.cpu,
    memory: service.memory,
    containerPort: service.containerPort,
    metricsPort: service.metricsPort,
    stopTimeoutSeconds: service.stopTimeoutSeconds,
    enableExecuteCommand: service.enableExecuteCommand,
    environment: serverEnvironment(config),
    secrets: service.secrets,
    allowedHosts: service.allowedHosts,
    collectorImage: observability.collectorImage,
    metricsNamespace: observability.metricsNamespace,
    scrapeIntervalSeconds: observability.scrapeIntervalSeconds,
  };
}

/**
 * The server's variables that come from one environment's config (docs/image-contract.md says who
 * sets each of the others): McpDeployment adds those that wire the server to Redis and the load
 * balancer, McpService those derived from its own props, each sidecar those it needs. None is a
 * secret: the server signs its own Redis token with the task role, and secrets come from service.secrets.
 */
function serverEnvironment(config: EnvironmentConfig): Record<string, string> {
  const svc = config.service;
  const keepAliveMs = svc.keepAliveTimeoutSeconds * 1000;
  return {
    ...svc.environment,
    UPSTREAM_URL: svc.upstreamUrl,
    CACHE_TTL_SECONDS: String(svc.cacheTtlSeconds),
    LOG_LEVEL: svc.logLevel,
    ...(svc.allowedOrigins.length > 0 ? { ALLOWED_ORIGINS: svc.allowedOrigins.join(",") } : {}),
    // Above the load balancer's idle timeout, so the server never closes a connection the ALB may reuse.
    KEEP_ALIVE_TIMEOUT_MS: String(keepAliveMs),
    HEADERS_TIMEOUT_MS: String(keepAliveMs + 1000),
    DRAIN_DELAY_SECONDS: String(svc.drainDelaySeconds),
    ...authEnvironment(config.auth),
  };
}

/** JWT mode from the config's auth (the resource URL, from the host name, is McpDeployment's wiring). */
function authEnvironment(auth: EnvironmentConfig["auth"]): Record<string, string> {
  if (!auth) return {};
  return {
    AUTH_MODE: "jwt",
    JWT_ISSUER: auth.issuer,
    JWT_AUDIENCE: auth.audience,
    JWKS_URL: auth.jwksUrl,
    ...(auth.requiredScopes.length > 0 ? { JWT_REQUIRED_SCOPES: auth.requiredScopes.join(" ") } : {}),
  };
}
