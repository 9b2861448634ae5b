import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { CachedFetcher } from './fetcher.js';
import { sendText } from './jsonrpc.js';
import type { Lifecycle } from './lifecycle.js';

/** A GET route beside /mcp; HEAD gets the same answer without its body. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(res: ServerResponse, status: number, type: string, text: string, cacheControl: string): void {
  res.setHeader('cache-control', cacheControl);
  sendText(res, status, type, text);
}

export interface HealthDeps {
  config: Config;
  cache: Cache;
  fetcher: CachedFetcher;
  lifecycle: Lifecycle;
}

/**
 * The health checks, in the health+json format (draft-inadarei-api-health-check): liveness says
 * the process answers; readiness adds Redis (fail only when REDIS_REQUIRED) and the breakers, and
 * fails while draining so the load balancer stops routing here.
 */
export function healthRoutes({ config, cache, fetcher, lifecycle }: HealthDeps): Map<string, Route> {
  const health = (res: ServerResponse, status: number, body: object) => send(res, status, 'application/health+json', JSON.stringify(body), 'no-store');
  const identity = { version: config.APP_VERSION, releaseId: config.APP_VERSION, serviceId: 'mcp-server' };
  const redisUrl = new URL(config.REDIS_URL);
  const redisId = `${redisUrl.hostname}:${redisUrl.port || 6379}`;

  const live: Route = (_req, res) => health(res, 200, { status: 'pass', ...identity });

  const ready: Route = async (_req, res) => {
    const now = new Date().toISOString();
    const base = { ...identity, deploymentColor: config.DEPLOYMENT_COLOR };
    if (lifecycle.draining) return health(res, 503, { ...base, status: 'fail', output: 'draining: shutting down', notes: ['draining'] });
    const ping = await cache.ping(config.REDIS_HEALTH_TIMEOUT_MS);
    const redisStatus = ping.ok ? 'pass' : config.REDIS_REQUIRED ? 'fail' : 'warn';
    const breaker = fetcher.status()[0]!;
    const breakerStatus = breaker.state === 'closed' ? 'pass' : 'warn';
    const status = redisStatus === 'fail' ? 'fail' : redisStatus === 'warn' || breakerStatus === 'warn' ? 'warn' : 'pass';
    return health(res, status === 'fail' ? 503 : 200, {
      ...base,
      status,
      checks: {
        'redis:responseTime': [
          {
            componentId: redisId,
            componentType: 'datastore',
            observedValue: ping.latencyMs,
            observedUnit: 'ms',
            status: redisStatus,
            time: now,
            ...(ping.error ? { output: ping.error } : {}),
          },
        ],
        'upstream:circuitBreaker': [{ componentId: breaker.name, componentType: 'component', observedValue: breaker.state, status: breakerStatus, time: now }],
      },
    });
  };

  return new Map([
    ['/health/live', live],
    ['/health/ready', ready],
  ]);
}

/**
 * RFC 9728 protected resource metadata, at the path-suffixed URL and at the bare one that some
 * clients look at first. Built from configuration, never from the request: a forged Host or
 * X-Forwarded-Proto must not reach a document that caches serve to everyone (config.ts requires
 * MCP_RESOURCE_URL in JWT mode).
 */
export function metadataRoutes(config: Config): Map<string, Route> {
  const document = JSON.stringify({
    resource: config.MCP_RESOURCE_URL,
    authorization_servers: [config.JWT_ISSUER],
    bearer_methods_supported: ['header'],
    ...(config.JWT_REQUIRED_SCOPES.length > 0 ? { scopes_supported: config.JWT_REQUIRED_SCOPES } : {}),
    resource_name: 'mcp-deploy-server',
  });
  const metadata: Route = (_req, res) => send(res, 200, 'application/json', document, 'public, max-age=300');
  return new Map([
    ['/.well-known/oauth-protected-resource', metadata],
    ['/.well-known/oauth-protected-resource/mcp', metadata],
  ]);
}
