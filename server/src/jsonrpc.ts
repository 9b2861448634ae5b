import type { ServerResponse } from 'node:http';
import { TOOL_NAMES } from './mcp.js';

// The request methods this server answers (both protocol eras), for metric labels. The SDK answers
// any other method itself: in-band -32601 with HTTP 200 on the 2025 revisions, whose transport
// reserves 404 for a terminated session, and 404 + -32601 on 2026-07-28.
export const SERVED_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
]);
// Label values must stay bounded: any other method a client sends is reported as "unknown".
const KNOWN_METHODS = new Set([...SERVED_METHODS, 'notifications/initialized', 'notifications/cancelled']);
const KNOWN_TOOLS = new Set<string>(TOOL_NAMES);

export function labelsOf(body: unknown): { method: string; tool: string } {
  if (Array.isArray(body)) return { method: 'batch', tool: 'none' };
  if (!body || typeof body !== 'object') return { method: 'none', tool: 'none' };
  const { method, params } = body as { method?: unknown; params?: { name?: unknown } };
  if (typeof method !== 'string') return { method: 'none', tool: 'none' };
  if (!KNOWN_METHODS.has(method)) return { method: 'unknown', tool: 'none' };
  if (method !== 'tools/call') return { method, tool: 'none' };
  const name = params?.name;
  return { method, tool: typeof name === 'string' && KNOWN_TOOLS.has(name) ? name : 'unknown' };
}

export function rpcError(code: number, message: string, id: unknown = null) {
  return { jsonrpc: '2.0', error: { code, message }, id: typeof id === 'string' || typeof id === 'number' ? id : null };
}

/** A whole answer in UTF-8 with its length, as every route sends it. */
export function sendText(res: ServerResponse, status: number, type: string, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', `${type}; charset=utf-8`);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export const sendJson = (res: ServerResponse, status: number, body: unknown): void => sendText(res, status, 'application/json', JSON.stringify(body));

/**
 * Finds JSON nested deeper than `max` arrays and objects while the body streams in, by a scan of its
 * bytes that stops at the first level too deep: JSON.parse (and the SDK's JSON.stringify after it)
 * would otherwise spend ~100 ms and overflow the stack on a megabyte of brackets. Brackets inside
 * strings do not count; quotes, backslashes and brackets are ASCII, so UTF-8 needs no decoding.
 */
export class NestingScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  tooDeep = false;

  constructor(private readonly max: number) {}

  /** Scans the next chunk; true once the nesting has gone deeper than `max`. */
  feed(chunk: Uint8Array): boolean {
    if (this.tooDeep) return true;
    let { depth, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (escaped) escaped = false;
      else if (inString) {
        if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x5b || c === 0x7b) {
        if (++depth > this.max) return (this.tooDeep = true);
      } else if (c === 0x5d || c === 0x7d) depth--;
    }
    Object.assign(this, { depth, inString, escaped });
    return false;
  }
}

/** Whether a whole JSON text nests deeper than `max` (see NestingScanner). */
export const nestedDeeperThan = (body: Uint8Array, max: number): boolean => new NestingScanner(max).feed(body);

export const tooLargeMessage = (max: number) => `request body exceeds ${max} bytes`;

export const tooDeepMessage = (max: number) => `Invalid request: JSON nested deeper than ${max} levels (MAX_JSON_DEPTH)`;
