import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';

export type { Logger };

/**
 * What a request or response becomes in a log line, wherever it is logged (pino-http's request
 * lines and any `{ req }` or `{ res }` passed to the logger): headers are left out entirely, since
 * they carry bearer tokens and cookies. This replaces pino's path redaction, which named a few
 * headers, cost a few KiB of garbage per line (BENCH.md) and let the others through.
 */
export const serializers = {
  // Raw node:http objects (pino-http runs with wrapSerializers off, so no full copy is made first).
  req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
    id: req.id,
    method: req.method,
    url: req.originalUrl ?? req.url,
    remoteAddress: req.socket?.remoteAddress,
  }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
  err: pino.stdSerializers.err,
};

export function createLogger(level: string, base: Record<string, string>): Logger {
  return pino(
    {
      level,
      base: { service: 'mcp-server', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers,
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
