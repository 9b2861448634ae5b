import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import type { Config } from './config.js';
import { rpcError, sendJson, tooLargeMessage } from './jsonrpc.js';
import { memoize } from './memo.js';

/** A Host header as RFC 9110 allows it: a DNS name, IPv4 or bracketed IPv6 literal, and an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

// A pure function of the header value, which is the same on nearly every request.
const validHost = memoize((host: string) => HOST.test(host), 64);

/** Methods that no route serves and that the Fetch API refuses to even represent (a 500 otherwise). */
const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

export interface Refusal {
  status: number;
  message: string;
  /** End the connection after the answer, rather than read a body that will not be used. */
  close?: boolean;
}

/** Answers a refusal as a JSON-RPC -32600 error, closing the connection after it when the refusal says so. */
export function sendRefusal(res: ServerResponse, { status, message, close }: Refusal): void {
  if (close) res.shouldKeepAlive = false;
  sendJson(res, status, rpcError(-32600, message));
}

/**
 * The request-line, Host and declared-length checks every request passes before any route sees it, so that what
 * any client can send gets a 4xx, never a 500 from deeper code. An absolute-form target
 * (`POST http://host/mcp`), which RFC 9112 requires servers to accept, is rewritten to its path
 * when its authority is the Host header, and refused otherwise.
 */
export function refuseMalformed(req: IncomingMessage, maxBodyBytes: number): Refusal | undefined {
  if (REFUSED_METHODS.has(req.method ?? '')) return { status: 405, message: `method ${req.method} is not allowed` };
  // Answered before any of the body is read, rather than after reading MAX_BODY_BYTES of it.
  if (Number(req.headers['content-length']) > maxBodyBytes) return { status: 413, message: tooLargeMessage(maxBodyBytes), close: true };
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return { status: 400, message: 'Invalid request: more than one Host header' };
  // HTTP/1.1 without Host never gets here (node answers 400); HTTP/1.0 may omit it (HAProxy's checks do).
  const host = req.headers.host;
  if (host !== undefined && !validHost(host)) return { status: 400, message: 'Invalid request: malformed Host header' };
  const target = req.url ?? '';
  if (target.startsWith('/')) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { status: 400, message: 'Invalid request: malformed request target' };
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.host.toLowerCase() !== host?.toLowerCase()) {
    return { status: 400, message: 'Invalid request: the request target names another host' };
  }
  req.url = `${url.pathname}${url.search}`;
  return undefined;
}

/**
 * DNS-rebinding protection for every route but the health checks: the SDK's own Host and Origin
 * validators against ALLOWED_HOSTS and ALLOWED_ORIGINS ("*" turns either off). Returns the
 * refusal's message, or undefined. Memoised: the URL parse inside each validator is most of a
 * microsecond, for a header that is the same on nearly every request.
 */
export function callerCheck(config: Pick<Config, 'ALLOWED_HOSTS' | 'ALLOWED_ORIGINS'>): (req: IncomingMessage) => string | undefined {
  type Validate = (value: string | undefined, allowed: string[]) => { ok: true } | { ok: false; message: string };
  const check = (allowed: string[], validate: Validate) =>
    allowed.includes('*') ? undefined : memoize((value: string | undefined) => validate(value, allowed), 64);
  const host = check(config.ALLOWED_HOSTS, validateHostHeader);
  const origin = check(config.ALLOWED_ORIGINS, validateOriginHeader);
  return (req) => {
    const h = host?.(req.headers.host);
    if (h && !h.ok) return h.message;
    const o = origin?.(req.headers.origin);
    return o && !o.ok ? o.message : undefined;
  };
}
