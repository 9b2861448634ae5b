import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, getOAuthProtectedResourceMetadataUrl, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { pinoHttp } from 'pino-http';
import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { CachedFetcher } from './fetcher.js';
import { serializers, type Logger } from './logger.js';
import { rpcError } from './jsonrpc.js';
import { refuseMalformed, sendRefusal } from './request-gate.js';
import { createMcpEndpoint } from './mcp-endpoint.js';
import { createMcpServerFactory } from './mcp.js';
import type { Metrics } from './metrics.js';
import { BodyBudget } from './request-body.js';
import { createRequestObserver } from './request-observer.js';

/**
 * Where the process is in its shutdown. From SIGTERM on, every response says `Connection: close`,
 * including those of requests that started before it, so no client reuses a connection that the
 * listener will close (a reused one is reset).
 */
export class Lifecycle {
  /** SIGTERM received: readiness answers 503 so the load balancer stops routing here. */
  draining = false;
  private readonly unsent = new Set<ServerResponse>();

  /** Called as each response begins: it will say `Connection: close` if draining starts before its headers go. */
  track(res: ServerResponse): void {
    if (this.draining) return void res.setHeader('connection', 'close');
    this.unsent.add(res);
    res.once('close', () => this.unsent.delete(res));
  }

  drain(): void {
    this.draining = true;
    for (const res of this.unsent) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      // An event stream whose headers already said keep-alive: close right after its last byte, so
      // the client sees the close before it could reuse the connection.
      else res.once('finish', () => res.socket?.destroySoon());
    }
    this.unsent.clear();
  }
}

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  cache: Cache;
  fetcher: CachedFetcher;
  lifecycle: Lifecycle;
  verifier?: OAuthTokenVerifier;
  startedAt: Date;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request listener: every /mcp request takes one path (mcp-endpoint.ts); Express serves the
 * health checks, the protected resource metadata and the 404s.
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config, log, metrics, cache, fetcher, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 1); // exactly one hop: the ALB (or HAProxy in the release test)
  app.set('etag', false);

  const requestLog = pinoHttp({
    logger: log,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    // Load balancer probes every few seconds would drown the useful lines.
    autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health/') ?? false },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers,
    wrapSerializers: false,
  });
  // Every route: the colour and version that answered, the request id and the request log line.
  const begin = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-deployment-color', config.DEPLOYMENT_COLOR);
    res.setHeader('x-app-version', config.APP_VERSION);
    lifecycle.track(res);
    requestLog(req, res);
  };
  app.use((req, res, next) => {
    begin(req, res);
    next();
  });

  // Health routes come before Host/Origin validation: target group checks use the task's IP as Host.
  const health = (res: express.Response, status: number, body: object) =>
    res.status(status).set('cache-control', 'no-store').type('application/health+json').send(JSON.stringify(body));

  app.get('/health/live', (_req, res) => {
    health(res, 200, { status: 'pass', version: config.APP_VERSION, releaseId: config.APP_VERSION, serviceId: 'mcp-server' });
  });

  app.get('/health/ready', async (_req, res) => {
    const now = new Date().toISOString();
    const base = { version: config.APP_VERSION, releaseId: config.APP_VERSION, serviceId: 'mcp-server', deploymentColor: config.DEPLOYMENT_COLOR };
    if (lifecycle.draining) {
      return health(res, 503, { ...base, status: 'fail', output: 'draining: shutting down', notes: ['draining'] });
    }
    const ping = await cache.ping(config.REDIS_HEALTH_TIMEOUT_MS);
    const redisStatus = ping.ok ? 'pass' : config.REDIS_REQUIRED ? 'fail' : 'warn';
    const breaker = fetcher.status()[0]!;
    const breakerStatus = breaker.state === 'closed' ? 'pass' : 'warn';
    const status = redisStatus === 'fail' ? 'fail' : redisStatus === 'warn' || breakerStatus === 'warn' ? 'warn' : 'pass';
    const redisUrl = new URL(config.REDIS_URL);
    return health(res, status === 'fail' ? 503 : 200, {
      ...base,
      status,
      checks: {
        'redis:responseTime': [
          {
            componentId: `${redisUrl.hostname}:${redisUrl.port || 6379}`,
            componentType: 'datastore',
            observedValue: ping.latencyMs,
            observedUnit: 'ms',
            status: redisStatus,
            time: now,
            ...(ping.error ? { output: ping.error } : {}),
          },
        ],
        'upstream:circuitBreaker': [
          { componentId: breaker.name, componentType: 'component', observedValue: breaker.state, status: breakerStatus, time: now },
        ],
      },
    });
  });

  if (!config.ALLOWED_HOSTS.includes('*')) app.use(hostHeaderValidation(config.ALLOWED_HOSTS));
  if (!config.ALLOWED_ORIGINS.includes('*')) app.use(originValidation(config.ALLOWED_ORIGINS));

  if (deps.verifier) {
    // Configured, never taken from the request: a forged Host or X-Forwarded-Proto must not reach a
    // document that caches serve to everyone (config.ts requires it in JWT mode).
    const document = JSON.stringify({
      resource: config.MCP_RESOURCE_URL,
      authorization_servers: [config.JWT_ISSUER],
      bearer_methods_supported: ['header'],
      ...(config.JWT_REQUIRED_SCOPES.length > 0 ? { scopes_supported: config.JWT_REQUIRED_SCOPES } : {}),
      resource_name: 'mcp-deploy-server',
    });
    const metadata: RequestHandler = (_req, res) => {
      res.set('cache-control', 'public, max-age=300').type('application/json').send(document);
    };
    // RFC 9728 puts the document at the path-suffixed URL; the bare one serves clients that look there first.
    app.get('/.well-known/oauth-protected-resource', metadata);
    app.get('/.well-known/oauth-protected-resource/mcp', metadata);
  }

  app.use((req, res) => {
    res.status(404).json(rpcError(-32601, `no route for ${req.method} ${req.path}`));
  });

  // Errors become JSON-RPC errors: no stack traces reach clients.
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    req.log?.error({ err }, 'unhandled error');
    res.status(500).json(rpcError(-32603, 'Internal error'));
  };
  app.use(onError);

  const mcpHandler = createMcpHandler(createMcpServerFactory(deps), {
    onerror: (err) => log.debug({ err: { message: err.message } }, 'mcp request rejected'),
  });
  // The endpoint hands the SDK a body it has read and parsed, or none at all.
  const serveMcp = toNodeHandler(mcpHandler);
  const mcp = createMcpEndpoint({
    config,
    ...(deps.verifier ? { verifier: deps.verifier, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(config.MCP_RESOURCE_URL!)) } : {}),
    budget: new BodyBudget(config.MAX_BUFFERED_BYTES),
    begin,
    observe: createRequestObserver(config, metrics),
    serveMcp,
  });
  return (req, res) => {
    const refusal = refuseMalformed(req, config.MAX_BODY_BYTES);
    if (refusal) {
      begin(req, res);
      return sendRefusal(res, refusal);
    }
    return mcp.handles(req) ? void mcp.serve(req, res) : app(req, res);
  };
}
