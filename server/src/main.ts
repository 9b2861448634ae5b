import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createApp } from './app.js';
import { Lifecycle } from './lifecycle.js';
import { createJwtVerifier } from './auth.js';
import { Cache } from './cache.js';
import type { Config } from './config.js';
import { CachedFetcher } from './fetcher.js';
import { createLogger, redactUrl } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { withServerSpans } from './server-span.js';
import type { Telemetry } from './telemetry.js';

function metricsServer(metrics: Metrics, config: Config): Server {
  return createServer((req, res) => {
    res.setHeader('x-deployment-color', config.DEPLOYMENT_COLOR);
    res.setHeader('x-app-version', config.APP_VERSION);
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Starts the MCP and metrics listeners and installs the SIGTERM drain sequence. */
export async function main(config: Config, telemetry?: Telemetry): Promise<void> {
  const log = createLogger(config.LOG_LEVEL, { color: config.DEPLOYMENT_COLOR, version: config.APP_VERSION });
  const metrics = createMetrics();
  const cache = new Cache(config, metrics, log);
  const fetcher = new CachedFetcher(config, cache, metrics, log);
  const lifecycle = new Lifecycle();
  const app = createApp({
    config,
    log,
    metrics,
    cache,
    fetcher,
    lifecycle,
    startedAt: new Date(),
    ...(config.AUTH_MODE === 'jwt' ? { verifier: createJwtVerifier(config) } : {}),
  });

  const server = createServer(telemetry ? withServerSpans(app, telemetry.rootSampleRatio) : app);
  // Above the ALB's 60 s idle timeout, so the ALB always closes idle connections first (otherwise: 502s).
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.REQUEST_TIMEOUT_MS + config.HEADERS_TIMEOUT_MS;
  // Each connection costs memory before it sends a byte; past this many, new ones are refused.
  server.maxConnections = config.MAX_CONNECTIONS;
  const mserver = metricsServer(metrics, config);

  cache.connect();
  const port = await listen(server, config.PORT, config.HOST);
  const mport = await listen(mserver, config.METRICS_PORT, config.HOST);
  log.info(
    {
      port,
      metricsPort: mport,
      redis: redactUrl(config.REDIS_URL),
      redisAuth: config.REDIS_IAM_USER ? 'iam' : config.REDIS_AUTH_TOKEN ? 'token' : 'none',
      upstream: config.UPSTREAM_URL,
      auth: config.AUTH_MODE,
      tracing: Boolean(telemetry),
    },
    'listening',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const t0 = Date.now();
    // Leave a second of the stop timeout for closing Redis and flushing traces, so ECS never has to SIGKILL.
    const deadline = t0 + Math.max(0, config.STOP_TIMEOUT_SECONDS * 1000 - 1000);
    lifecycle.drain();
    log.info({ signal, drainDelaySeconds: config.DRAIN_DELAY_SECONDS }, 'draining: readiness now 503');
    await new Promise((r) => setTimeout(r, config.DRAIN_DELAY_SECONDS * 1000));

    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle keep-alive sockets would hold close() open; busy ones get `connection: close` on their last response.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, deadline - Date.now()))),
    ]);
    clearInterval(sweeper);
    if (timedOut) {
      log.warn('stop timeout reached with requests in flight: closing their connections');
      server.closeAllConnections();
    }
    mserver.close();
    mserver.closeAllConnections();
    fetcher.shutdown();
    await cache.close();
    if (telemetry) await telemetry.shutdown().catch(() => undefined);
    log.info({ elapsedMs: Date.now() - t0 }, 'shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
