// Preloaded into the server by tracing-cost.ts (NODE_OPTIONS=--require): SIGUSR1 switches the
// OpenTelemetry API globals off (no context, no tracer, no propagation), SIGUSR2 back on, so one
// process can be measured with and without tracing under the same load.
import { context, propagation, trace, type ContextManager, type TextMapPropagator, type TracerProvider } from '@opentelemetry/api';

let saved: { contextManager: ContextManager; tracerProvider: TracerProvider; propagator: TextMapPropagator } | undefined;
const api = { context, propagation } as unknown as { context: { _getContextManager(): ContextManager }; propagation: { _getGlobalPropagator(): TextMapPropagator } };

process.on('SIGUSR1', () => {
  saved = { contextManager: api.context._getContextManager(), tracerProvider: trace.getTracerProvider(), propagator: api.propagation._getGlobalPropagator() };
  context.disable();
  trace.disable();
  propagation.disable();
});
process.on('SIGUSR2', () => {
  if (!saved) return;
  context.setGlobalContextManager(saved.contextManager);
  trace.setGlobalTracerProvider(saved.tracerProvider);
  propagation.setGlobalPropagator(saved.propagator);
});
