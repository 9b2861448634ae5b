import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

// Load balancer probes every few seconds would drown the useful traces.
const QUIET_PATHS = ['/health/'];
const ROUTES = new Set(['/mcp', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']);

function describeRequest(span: Span, req: IncomingMessage, path: string, route: string | undefined): void {
  const host = req.headers.host ?? '';
  const colon = host.lastIndexOf(':');
  const forwardedProto = req.headers['x-forwarded-proto'];
  span.setAttributes({
    [ATTR_HTTP_REQUEST_METHOD]: req.method ?? 'GET',
    [ATTR_URL_PATH]: path,
    [ATTR_URL_SCHEME]: typeof forwardedProto === 'string' ? forwardedProto.split(',')[0]!.trim() : 'http',
    [ATTR_SERVER_ADDRESS]: colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host,
    [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
    ...(colon > 0 && !host.endsWith(']') ? { [ATTR_SERVER_PORT]: Number(host.slice(colon + 1)) } : {}),
    ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
    ...(req.socket.remoteAddress ? { [ATTR_CLIENT_ADDRESS]: req.socket.remoteAddress } : {}),
    ...(req.headers['user-agent'] ? { [ATTR_USER_AGENT_ORIGINAL]: req.headers['user-agent'] } : {}),
  });
}

function endWithResponse(span: Span, res: ServerResponse): void {
  res.once('close', () => {
    const status = res.statusCode;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (!res.writableFinished) {
      span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the response finished' });
    }
    span.end();
  });
}

/**
 * Wraps a request listener so each request runs inside an HTTP server span, continuing the
 * caller's W3C traceparent. Used instead of @opentelemetry/instrumentation-http, whose hooks
 * build attributes and bind every request and response listener before the sampler decides: here
 * only a recorded span gets attributes and a response listener. Log lines and the Redis and
 * upstream spans find the span through the active context.
 *
 * With rootSampleRatio set, a request without a traceparent is traced with that probability and
 * otherwise served with no span at all (the SDK's sampler then only follows callers' decisions).
 */
export function withServerSpans(listener: RequestListener, rootSampleRatio?: number): RequestListener {
  const tracer = trace.getTracer('mcp-deploy-server');
  return (req, res) => {
    const url = req.url ?? '/';
    if (QUIET_PATHS.some((p) => url.startsWith(p))) return listener(req, res);
    if (rootSampleRatio !== undefined && req.headers.traceparent === undefined && Math.random() >= rootSampleRatio) return listener(req, res);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = ROUTES.has(path) ? path : undefined;
    const method = req.method ?? 'GET';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(route ? `${method} ${route}` : method, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      describeRequest(span, req, path, route);
      endWithResponse(span, res);
    }
    context.with(trace.setSpan(parent, span), listener, undefined, req, res);
  };
}
