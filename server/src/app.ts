import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { hostHeaderValidation, originValidation, requireBearerAuth } from '@modelcontextprotocol/express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, getOAuthProtectedResourceMetadataUrl, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { pinoHttp } from 'pino-http';
import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { CachedFetcher } from './fetcher.js';
import { serializers, type Logger } from './logger.js';
import { nestedDeeperThan, rpcError, sendJson, tooDeepMessage, tooLargeMessage } from './jsonrpc.js';
import { refuseMalformed } from './request-gate.js';
import { createMcpServerFactory, requestStore, type RequestStore } from './mcp.js';
import { createMcpFastPath } from './mcp-fast-path.js';
import { memoize } from './memo.js';
import type { Metrics } from './metrics.js';
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

/** The public origin as Express's req.protocol (trust proxy 1: the first X-Forwarded-Proto) and the Host header give it. */
function originOf(req: IncomingMessage): string {
  const proto = req.headers['x-forwarded-proto'];
  const scheme = typeof proto === 'string' && proto ? proto.split(',')[0]!.trim() : 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  return `${scheme}://${req.headers.host}`;
}

/**
 * The request listener: POST /mcp with a plain JSON body takes the lean path (mcp-fast-path.ts);
 * everything else goes through Express, with the same behaviour.
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

  // The public URL of /mcp: configured, or as the client reached us through the load balancer.
  const configured = config.MCP_RESOURCE_URL ? new URL(config.MCP_RESOURCE_URL) : undefined;
  const resourceUrlAt = (origin: string) => configured ?? new URL(`${origin}/mcp`);
  // The metadata URL named in 401 challenges, per public origin: a handful at most, behind one load balancer.
  const metadataUrlFor = memoize((origin: string) => getOAuthProtectedResourceMetadataUrl(resourceUrlAt(origin)), 16);
  const resourceMetadataUrl = (req: IncomingMessage) => metadataUrlFor(configured ? '' : originOf(req));

  if (deps.verifier) {
    const metadata: RequestHandler = (req, res) => {
      res.set('cache-control', 'public, max-age=300').json({
        resource: resourceUrlAt(originOf(req)).href,
        authorization_servers: [config.JWT_ISSUER],
        bearer_methods_supported: ['header'],
        resource_name: 'mcp-deploy-server',
      });
    };
    // RFC 9728 puts the document at the path-suffixed URL; the bare one serves clients that look there first.
    app.get('/.well-known/oauth-protected-resource', metadata);
    app.get('/.well-known/oauth-protected-resource/mcp', metadata);
  }

  const mcpHandler = createMcpHandler(createMcpServerFactory(deps), {
    maxRequestBodySize: config.MAX_BODY_BYTES,
    onerror: (err) => log.debug({ err: { message: err.message } }, 'mcp request rejected'),
  });
  const serveMcp = toNodeHandler(mcpHandler, { maxRequestBodySize: config.MAX_BODY_BYTES });
  const jsonBody = express.json({
    limit: config.MAX_BODY_BYTES,
    type: 'application/json',
    strict: false,
    // Before JSON.parse, as on the fast path; onError answers it.
    verify: (_req, _res, buf) => {
      if (nestedDeeperThan(buf, config.MAX_JSON_DEPTH)) throw Object.assign(new Error('too deep'), { type: 'entity.too.deep' });
    },
  });

  const startObserving = createRequestObserver(config, metrics);
  const observe: RequestHandler = (req, res, next) => {
    res.locals.store = startObserving(res);
    next();
  };

  // One bearer middleware per metadata URL (the challenge names it); as few as there are origins.
  const verifier = deps.verifier;
  const bearerFor = verifier && memoize((url: string) => requireBearerAuth({ verifier, resourceMetadataUrl: url }), 16);
  const auth: RequestHandler = (req, res, next) => (bearerFor ? bearerFor(resourceMetadataUrl(req))(req, res, next) : next());

  app.all('/mcp', observe, auth, jsonBody, async (req, res, next) => {
    const store = res.locals.store as RequestStore;
    const body: unknown = (store.body = req.body);
    if (res.headersSent) return; // the per-request timeout answered while the body was arriving
    try {
      await requestStore.run(store, () => serveMcp(req, res, body));
    } catch (err) {
      if (res.headersSent) return; // the per-request timeout answered first
      next(err);
    }
  });

  app.use((req, res) => {
    res.status(404).json(rpcError(-32601, `no route for ${req.method} ${req.path}`));
  });

  // Body-parser and other errors become JSON-RPC errors: no stack traces reach clients.
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = e.status ?? e.statusCode ?? 500;
    if (res.headersSent) return void res.destroy();
    if (e.type === 'entity.parse.failed') return void res.status(400).json(rpcError(-32700, 'Parse error: body is not valid JSON'));
    if (e.type === 'entity.too.deep') return void res.status(400).json(rpcError(-32600, tooDeepMessage(config.MAX_JSON_DEPTH)));
    if (e.type === 'entity.too.large') return void res.status(413).json(rpcError(-32600, tooLargeMessage(config.MAX_BODY_BYTES)));
    if (status >= 400 && status < 500) return void res.status(status).json(rpcError(-32600, `Invalid request: ${e.message ?? 'bad request'}`));
    req.log?.error({ err }, 'unhandled error');
    res.status(500).json(rpcError(-32603, 'Internal error'));
  };
  app.use(onError);

  const fast = createMcpFastPath({
    config,
    ...(deps.verifier ? { verifier: deps.verifier } : {}),
    begin,
    observe: startObserving,
    resourceMetadataUrl,
    serveMcp,
  });
  return (req, res) => {
    const refusal = refuseMalformed(req, config.MAX_BODY_BYTES);
    if (refusal) {
      if (refusal.close) res.shouldKeepAlive = false;
      return sendJson(res, refusal.status, rpcError(-32600, refusal.message));
    }
    return fast.accepts(req) ? void fast.serve(req, res) : app(req, res);
  };
}
