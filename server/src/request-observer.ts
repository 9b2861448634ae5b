import type { ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import type { Config } from './config.js';
import { labelsOf, rpcError, sendJson } from './jsonrpc.js';
import type { RequestStore } from './mcp.js';
import type { Metrics } from './metrics.js';

type Timer = ReturnType<Histogram<'method' | 'tool' | 'outcome'>['labels']>;

/**
 * Times each /mcp request into the duration histogram and answers it with a JSON-RPC error once
 * REQUEST_TIMEOUT_MS has passed. The histogram's children are bound once per label set (a few
 * dozen at most): prom-client would otherwise hash the labels on every observation.
 */
export function createRequestObserver(config: Pick<Config, 'REQUEST_TIMEOUT_MS'>, metrics: Metrics) {
  const children = new Map<string, Timer>();
  const childFor = (method: string, tool: string, outcome: string): Timer => {
    const key = `${method}\n${tool}\n${outcome}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = metrics.requestDuration.labels(method, tool, outcome)));
    return child;
  };

  /** Starts observing; the caller puts the parsed body in the store once there is one. */
  return (res: ServerResponse): RequestStore => {
    const start = process.hrtime.bigint();
    const store: RequestStore = { answer: 'success' };
    const timer = setTimeout(() => {
      const error = rpcError(-32001, `request timed out after ${config.REQUEST_TIMEOUT_MS} ms`, (store.body as { id?: unknown } | undefined)?.id);
      if (!res.headersSent) sendJson(res, 504, error);
      // The 2025 leg opens an SSE stream before the result: answer the request on that stream instead.
      else if (String(res.getHeader('content-type')).startsWith('text/event-stream')) res.end(`event: message\ndata: ${JSON.stringify(error)}\n\n`);
      else res.destroy();
    }, config.REQUEST_TIMEOUT_MS);
    // One 'close' listener (it follows 'finish', and also comes on an abort) rather than two once()
    // wrappers: pino-http removes its own listeners per request, at a cost that grows with the count.
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) return; // aborted by the client: no answer to time
      const { method, tool } = labelsOf(store.body);
      const outcome = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'rejected' : store.answer;
      childFor(method, tool, outcome).observe(Number(process.hrtime.bigint() - start) / 1e9);
    });
    return store;
  };
}
