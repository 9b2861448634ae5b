import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config.js';

/**
 * The production default when OTEL_TRACES_SAMPLER is unset: keep the caller's decision when a
 * traceparent arrives, otherwise trace one request in ten. Every request still gets its log line
 * and metrics; tracing every request costs about as much CPU as serving a cache hit (BENCH.md).
 */
export const DEFAULT_TRACE_RATIO = 0.1;

export interface Telemetry {
  /**
   * Set when the default sampler is in effect: the share of requests without a traceparent that
   * withServerSpans traces. The others run with no span at all, so the Redis and upstream
   * instrumentations (which need a parent span) skip them too.
   */
  rootSampleRatio?: number;
  shutdown: () => Promise<void>;
}

/**
 * Starts tracing. Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and before undici and redis
 * are first required so the instrumentations can patch them.
 */
export function startTelemetry(config: Config): Telemetry {
  // parentbased_traceidratio in two halves: the SDK follows a caller's traceparent, and the root
  // ratio is decided in withServerSpans before any span exists (BENCH.md: an unsampled span and
  // its Redis children cost more than the decision).
  const defaultSampler = !process.env.OTEL_TRACES_SAMPLER;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? 'mcp-server',
      [ATTR_SERVICE_VERSION]: config.APP_VERSION,
      'deployment.color': config.DEPLOYMENT_COLOR,
    }),
    // The standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables win when set.
    ...(defaultSampler ? { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) } : {}),
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends /v1/traces.
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      // No node:http instrumentation: incoming requests get their server span from withServerSpans
      // (server-span.ts), and the only outgoing node:http calls are the trace exports themselves.
      // Spans only inside a traced request: no orphan root spans from background work.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new RedisInstrumentation({ requireParentSpan: true }),
    ],
    // Metrics go through /metrics (Prometheus), logs through stdout: only traces are exported here.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { ...(defaultSampler ? { rootSampleRatio: DEFAULT_TRACE_RATIO } : {}), shutdown: () => sdk.shutdown() };
}
