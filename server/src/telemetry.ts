import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config.js';

const QUIET_PATHS = ['/health/', '/metrics'];

/**
 * Starts tracing. Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and before http, express
 * and redis are first required so the instrumentations can patch them.
 */
export function startTelemetry(config: Config): () => Promise<void> {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? 'mcp-server',
      [ATTR_SERVICE_VERSION]: config.APP_VERSION,
      'deployment.color': config.DEPLOYMENT_COLOR,
    }),
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends /v1/traces.
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => QUIET_PATHS.some((p) => req.url?.startsWith(p)),
        // Trace exports are HTTP calls too; tracing them would trace itself.
        ignoreOutgoingRequestHook: () => true,
      }),
      new UndiciInstrumentation(),
      new RedisInstrumentation(),
    ],
    // Metrics go through /metrics (Prometheus), logs through stdout: only traces are exported here.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}
