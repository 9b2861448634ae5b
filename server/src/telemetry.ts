import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
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

/**
 * Starts tracing. Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and before undici and redis
 * are first required so the instrumentations can patch them.
 */
export function startTelemetry(config: Config): Telemetry {
  const { sampler, rootSampleRatio } = samplingFor(config);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? 'mcp-server',
      [ATTR_SERVICE_VERSION]: config.APP_VERSION,
      'deployment.color': config.DEPLOYMENT_COLOR,
    }),
    sampler,
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
  return { ...(rootSampleRatio === undefined ? {} : { rootSampleRatio }), shutdown: () => sdk.shutdown() };
}
