import type { ServerResponse } from 'node:http';
import { TOOL_NAMES } from './mcp.js';

// The request methods this server answers (both protocol eras). The SDK answers other methods
// in-band with HTTP 200 on the 2025 path; we answer 404 + -32601 on both, as the 2026 path does.
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

/** A request for a method this server does not serve, which gets 404 + -32601 before the SDK sees it. */
export function isUnservedRequest(body: unknown): body is { id: unknown; method: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const { method } = body as { method?: unknown };
  return 'id' in body && typeof method === 'string' && !SERVED_METHODS.has(method);
}

/** The bytes and headers Express's res.json() sends, for the routes that bypass Express. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
