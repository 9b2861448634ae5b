import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type BreakerStateName = 'closed' | 'half-open' | 'open';
export const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

export type Metrics = ReturnType<typeof createMetrics>;

/** One registry per process (a new one per test server), holding the series the infrastructure alarms on. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which promtool's lint rejects; the per-type
  // nodejs_active_handles / nodejs_active_requests / nodejs_active_resources carry the same data.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return {
    registry,
    requestDuration: new Histogram({
      name: 'mcp_request_duration_seconds',
      help: 'Duration of MCP HTTP requests at /mcp, by JSON-RPC method, tool and outcome.',
      labelNames: ['method', 'tool', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheHits: new Counter({ name: 'mcp_cache_hits_total', help: 'Fresh cache hits.', registers: [registry] }),
    cacheMisses: new Counter({
      name: 'mcp_cache_misses_total',
      help: 'Cache misses, including expired entries.',
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: 'mcp_cache_errors_total',
      help: 'Cache reads or writes that failed (Redis down, timed out or answered garbage).',
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'mcp_circuit_breaker_state',
      help: 'Worst state of the per-path circuit breakers: 0 all closed, 1 one half-open, 2 one open.',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
    breakerSuccesses: new Counter({
      name: 'mcp_circuit_breaker_successes_total',
      help: 'Calls through the circuit breaker that succeeded.',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
    breakerFailures: new Counter({
      name: 'mcp_circuit_breaker_failures_total',
      help: 'Calls through the circuit breaker that failed or timed out.',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
    breakerTimeouts: new Counter({
      name: 'mcp_circuit_breaker_timeouts_total',
      help: 'Calls through the circuit breaker that got no answer within UPSTREAM_TIMEOUT_MS (also counted as failures).',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
    breakerClientErrors: new Counter({
      name: 'mcp_circuit_breaker_client_errors_total',
      help: 'Calls the upstream answered without content (3xx, 4xx, a body too large): neither a success nor a failure of the upstream.',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
    breakerRejections: new Counter({
      name: 'mcp_circuit_breaker_rejections_total',
      help: 'Calls rejected without running because the breaker was open.',
      labelNames: ['breaker'] as const,
      registers: [registry],
    }),
  };
}
