import type { IncomingMessage, ServerResponse } from 'node:http';
import { NestingScanner, tooDeepMessage, tooLargeMessage } from './jsonrpc.js';
import type { Refusal } from './request-gate.js';

/**
 * Bytes of request bodies held in memory, summed over every request still receiving one. It bounds
 * what many slow or large bodies at once can pin (300 slow 1 MiB bodies held about 300 MB before it).
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly max: number) {}

  take(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }
}

export interface BodyLimits {
  /** MAX_BODY_BYTES: more than this, declared or sent, is a 413. */
  maxBytes: number;
  /** MAX_JSON_DEPTH: deeper arrays and objects are a 400, found while the bytes arrive. */
  maxDepth: number;
  /** BODY_TIMEOUT_MS: the whole body must have arrived this long after the request began. */
  timeoutMs: number;
}

export type BodyResult = { bytes: Buffer } | { refusal: Refusal };

/**
 * Reads a request body, fixed-length or chunked, within the limits and the shared budget. Every
 * refusal but nesting ends the connection: the rest of the body is never read, whatever its framing.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits, budget: BodyBudget): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const scanner = new NestingScanner(limits.maxDepth);
    const settle = (result: BodyResult) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      budget.give(size);
      if ('refusal' in result && result.refusal.close) {
        res.shouldKeepAlive = false;
        // Answered already (401, or the request timeout's 504): nothing more to say on this connection.
        if (res.writableEnded) req.socket.destroy();
      }
      resolve(result);
    };
    const refuse = (status: number, message: string) => settle({ refusal: { status, message, close: true } });
    let drained = 0; // bytes of a body found too deep, counted but not kept
    const onData = (chunk: Buffer) => {
      if (size + drained + chunk.length > limits.maxBytes) return refuse(413, tooLargeMessage(limits.maxBytes));
      if (scanner.tooDeep) {
        // Back to the event loop after each drained chunk: libuv reads up to 32 chunks from a socket
        // per turn, so four clients sending nested megabytes kept every other request waiting behind
        // them (ping p50 3.1x idle; 1.2x with this, for the same CPU: BENCH.md).
        req.pause();
        setImmediate(() => req.resume());
        return void (drained += chunk.length);
      }
      if (!budget.take(chunk.length)) return refuse(503, 'Server busy: too many request bodies are arriving at once; retry shortly');
      size += chunk.length;
      if (scanner.feed(chunk)) chunks.length = 0;
      else chunks.push(chunk);
    };
    // A body found too deep is drained to its end (within MAX_BODY_BYTES and BODY_TIMEOUT_MS) and
    // the connection kept: closing it early made clients fail with EPIPE before reading the 400.
    const onEnd = () =>
      settle(scanner.tooDeep ? { refusal: { status: 400, message: tooDeepMessage(limits.maxDepth) } } : { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
    const onError = () => refuse(400, 'Invalid request: the body was cut off');
    const timer = setTimeout(() => refuse(408, `Invalid request: the body did not arrive within ${limits.timeoutMs} ms (BODY_TIMEOUT_MS)`), limits.timeoutMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}
