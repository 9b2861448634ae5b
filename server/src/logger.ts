import { pino, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';

export type { Logger };

// Paths that may carry credentials; pino replaces them before serialising.
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, base: Record<string, string>): Logger {
  return pino(
    {
      level,
      base: { service: 'mcp-server', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      // With tracing off the API returns no span, so this costs one lookup per line.
      mixin() {
        const ctx = trace.getActiveSpan()?.spanContext();
        return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags } : {};
      },
    },
    // Asynchronous stdout: lines written while a write is in flight go out together in one
    // syscall instead of one each (a request log line per request). pino flushes it
    // synchronously on process exit, so the shutdown lines are never lost.
    pino.destination({ dest: 1, sync: false }),
  );
}

/** A URL safe to log: credentials stripped. */
export function redactUrl(raw: string): string {
  const u = new URL(raw);
  if (u.password) u.password = 'redacted';
  return u.toString();
}
