import { context, diag, DiagConsoleLogger, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, diagLogLevelFromString, getNumberFromEnv, getStringFromEnv, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes, serviceInstanceIdDetector } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config.js';

export interface Telemetry {
  /**
   * Set when the sampler is parentbased_traceidratio (the default): the share of requests without
   * a traceparent that withServerSpans traces. The others run with no span at all, so the Redis and
   * upstream instrumentations (which need a parent span) skip them too.
   */
  rootSampleRatio?: number;
  shutdown: () => Promise<void>;
}

/**
 * The SDK's sampler for the validated OTEL_TRACES_SAMPLER and _ARG, built here rather than left to
 * the SDK, which reads a bad ratio as 1 (trace everything). parentbased_traceidratio comes in two
 * halves: the SDK follows a caller's traceparent, and the root ratio is decided in withServerSpans
 * before any span exists (an unsampled span and its Redis children cost more than the decision).
 */
export function samplingFor(config: Pick<Config, 'OTEL_TRACES_SAMPLER' | 'OTEL_TRACES_SAMPLER_ARG'>): { sampler: Sampler; rootSampleRatio?: number } {
  const name = config.OTEL_TRACES_SAMPLER;
  const ratio = config.OTEL_TRACES_SAMPLER_ARG;
  if (name === 'parentbased_traceidratio') return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), rootSampleRatio: ratio };
  const rootName = name.replace(/^parentbased_/, '');
  const root = rootName === 'always_off' ? new AlwaysOffSampler() : rootName === 'traceidratio' ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return { sampler: name === rootName ? root : new ParentBasedSampler({ root }) };
}

/** A positive OTEL_BSP_* setting, or undefined for the processor's default. */
const positiveFromEnv = (name: string) => {
  const value = getNumberFromEnv(name);
  return value !== undefined && value > 0 ? value : undefined;
};

/**
 * Starts tracing. Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and before undici and redis
 * are first required so the instrumentations can patch them.
 *
 * The trace SDK is assembled here rather than through @opentelemetry/sdk-node, which also loads
 * the metrics and logs SDKs and every exporter it could be configured with (gRPC, protobuf,
 * Zipkin, Prometheus): about twice the heap this needs, which V8 then multiplies when it sizes
 * the old generation under load (BENCH.md). It registers what NodeSDK would for these settings:
 * the async-hooks context manager, W3C trace context and baggage, the instrumentations, and a
 * batch processor honouring OTEL_BSP_*.
 */
export function startTelemetry(config: Config): Telemetry {
  const logLevel = getStringFromEnv('OTEL_LOG_LEVEL');
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(logLevel) });
  const { sampler, rootSampleRatio } = samplingFor(config);
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? 'mcp-server',
    [ATTR_SERVICE_VERSION]: config.APP_VERSION,
    'deployment.color': config.DEPLOYMENT_COLOR,
  }).merge(detectResources({ detectors: [serviceInstanceIdDetector, processDetector, hostDetector, osDetector, envDetector] }));
  const provider = new TracerProvider({
    sampler,
    resource,
    spanProcessors: [
      new BatchSpanProcessor({
        // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends /v1/traces.
        exporter: new OTLPTraceExporter(),
        maxQueueSize: positiveFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
        scheduledDelayMillis: positiveFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
        exportTimeoutMillis: positiveFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
        maxExportBatchSize: positiveFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // No node:http instrumentation: incoming requests get their server span from withServerSpans
      // (server-span.ts), and the only outgoing node:http calls are the trace exports themselves.
      // Spans only inside a traced request: no orphan root spans from background work.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new RedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  return { ...(rootSampleRatio === undefined ? {} : { rootSampleRatio }), shutdown: () => provider.shutdown() };
}
