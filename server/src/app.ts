import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, getOAuthProtectedResourceMetadataUrl, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { pinoHttp } from 'pino-http';
import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { CachedFetcher } from './fetcher.js';
import { serializers, type Logger } from './logger.js';
import { rpcError, sendJson } from './jsonrpc.js';
import { callerCheck, refuseMalformed, sendRefusal } from './request-gate.js';
import { createMcpEndpoint } from './mcp-endpoint.js';
import { createMcpServerFactory } from './mcp.js';
import type { Metrics } from './metrics.js';
import { BodyBudget } from './request-body.js';
import { createRequestObserver } from './request-observer.js';
import { healthRoutes, metadataRoutes, type Route } from './routes.js';
import type { Lifecycle } from './lifecycle.js';

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
 * The request listener. Before any route: the request-line and Host checks of request-gate.ts.
 * Then the health checks, which come before the Host and Origin checks (target group health
 * checks use the task's IP as Host); then those checks; then /mcp (mcp-endpoint.ts), the protected
 * resource metadata and 404s. No web framework: there are three GET routes beside /mcp, and
 * loading Express cost peak memory under load for them alone (BENCH.md).
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config, log, metrics, lifecycle } = deps;
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
  const probes = healthRoutes(deps);
  const documents = deps.verifier ? metadataRoutes(config) : new Map<string, Route>();
  const refuseCaller = callerCheck(config);

  const mcpHandler = createMcpHandler(createMcpServerFactory(deps), {
    onerror: (err) => log.debug({ err: { message: err.message } }, 'mcp request rejected'),
  });
  const mcp = createMcpEndpoint({
    config,
    ...(deps.verifier ? { verifier: deps.verifier, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(config.MCP_RESOURCE_URL!)) } : {}),
    budget: new BodyBudget(config.MAX_BUFFERED_BYTES),
    observe: createRequestObserver(config, metrics),
    // The endpoint hands the SDK a body it has read and parsed, or none at all.
    serveMcp: toNodeHandler(mcpHandler),
  });

  const serveRoute = async (route: Route, req: IncomingMessage & { log?: Logger }, res: ServerResponse) => {
    try {
      await route(req, res);
    } catch (err) {
      // Errors become JSON-RPC errors: no stack traces reach clients.
      if (res.headersSent) return void res.destroy();
      req.log?.error({ err }, 'unhandled error');
      sendJson(res, 500, rpcError(-32603, 'Internal error'));
    }
  };

  return (req, res) => {
    // Every route: the colour and version that answered, the request id and the request log line.
    res.setHeader('x-deployment-color', config.DEPLOYMENT_COLOR);
    res.setHeader('x-app-version', config.APP_VERSION);
    lifecycle.track(res);
    requestLog(req, res);

    const refusal = refuseMalformed(req, config.MAX_BODY_BYTES);
    if (refusal) return sendRefusal(res, refusal);
    const url = req.url!;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const get = req.method === 'GET' || req.method === 'HEAD';
    const probe = get ? probes.get(path) : undefined;
    if (probe) return void serveRoute(probe, req, res);
    const refused = refuseCaller(req);
    if (refused) return sendJson(res, 403, rpcError(-32000, refused));
    if (path === '/mcp') return void mcp.serve(req, res);
    const document = get ? documents.get(path) : undefined;
    if (document) return void serveRoute(document, req, res);
    sendJson(res, 404, rpcError(-32601, `no route for ${req.method} ${path}`));
  };
}
