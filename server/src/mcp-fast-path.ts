import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerAuthChallengeResponse,
  OAuthError,
  OAuthErrorCode,
  validateHostHeader,
  validateOriginHeader,
  verifyBearerToken,
  type AuthInfo,
  type OAuthTokenVerifier,
} from '@modelcontextprotocol/server';
import type { Config } from './config.js';
import { NestingScanner, rpcError, sendJson, tooDeepMessage } from './jsonrpc.js';
import type { Logger } from './logger.js';
import { requestStore, type RequestStore } from './mcp.js';
import { memoize } from './memo.js';

export interface McpFastPathDeps {
  config: Config;
  verifier?: OAuthTokenVerifier;
  /** The response headers every route sets, and the pino-http request logger. */
  begin: (req: IncomingMessage, res: ServerResponse) => void;
  observe: (res: ServerResponse) => RequestStore;
  /** The resource metadata URL named in 401 challenges, for this request's public origin. */
  resourceMetadataUrl: (req: IncomingMessage) => string;
  serveMcp: (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown) => Promise<void>;
}

const TOO_DEEP = Symbol('too deep');

const JSON_TYPE = /^application\/json(?:\s*;\s*charset="?utf-8"?)?$/i;

/**
 * POST /mcp with a plain JSON body, served on node:http without Express: the same Host and Origin
 * checks (the SDK's own validators, which the Express middleware wraps), bearer auth, body limit,
 * per-request timeout, metrics and request log, and the same status codes and JSON-RPC error
 * bodies. Express's router and body-parser cost about a tenth of a cache hit (BENCH.md). Every
 * other request, including unusual /mcp ones (compressed, chunked, empty or oversized bodies,
 * other content types), still goes through the Express app, which owns those answers.
 */
export function createMcpFastPath(deps: McpFastPathDeps) {
  const { config, verifier } = deps;
  // Pure functions of the header value, which is the same on nearly every request (the URL parse
  // inside the Host check is most of a microsecond).
  const checkHost = config.ALLOWED_HOSTS.includes('*') ? undefined : memoize((host: string | undefined) => validateHostHeader(host, config.ALLOWED_HOSTS), 64);
  const checkOrigin = config.ALLOWED_ORIGINS.includes('*') ? undefined : memoize((origin: string | undefined) => validateOriginHeader(origin, config.ALLOWED_ORIGINS), 64);

  const accepts = (req: IncomingMessage): boolean => {
    if (req.method !== 'POST' || req.url !== '/mcp') return false;
    const { headers } = req;
    const length = Number(headers['content-length']);
    return (
      length > 0 &&
      length <= config.MAX_BODY_BYTES &&
      headers['transfer-encoding'] === undefined &&
      headers['content-encoding'] === undefined &&
      JSON_TYPE.test(headers['content-type'] ?? '')
    );
  };

  const authenticate = async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<boolean> => {
    if (!verifier) return true;
    const options = { verifier, requiredScopes: [], resourceMetadataUrl: deps.resourceMetadataUrl(req) };
    try {
      req.auth = await verifyBearerToken(req.headers.authorization, options);
      return true;
    } catch (error) {
      const response = bearerAuthChallengeResponse(error, options);
      const challenge = response.headers.get('WWW-Authenticate');
      if (challenge !== null) res.setHeader('WWW-Authenticate', challenge);
      const body = error instanceof OAuthError ? error : new OAuthError(OAuthErrorCode.ServerError, 'Internal Server Error');
      if (!res.headersSent) sendJson(res, response.status, body.toResponseObject());
      return false;
    }
  };

  /**
   * The body, scanned for nesting as it arrives: a body nested too deep resolves at once to
   * TOO_DEEP, and the rest of it is drained without being kept.
   */
  const readBody = (req: IncomingMessage): Promise<Buffer | typeof TOO_DEEP> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const scanner = new NestingScanner(config.MAX_JSON_DEPTH);
      const onData = (chunk: Buffer) => {
        if (!scanner.feed(chunk)) return void chunks.push(chunk);
        req.off('data', onData);
        req.resume();
        resolve(TOO_DEEP);
      };
      req.on('data', onData);
      req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      req.once('error', reject);
    });

  const serve = async (req: IncomingMessage & { auth?: AuthInfo; log?: Logger }, res: ServerResponse): Promise<void> => {
    deps.begin(req, res);
    const host = checkHost?.(req.headers.host);
    if (host && !host.ok) return sendJson(res, 403, rpcError(-32000, host.message));
    const origin = checkOrigin?.(req.headers.origin);
    if (origin && !origin.ok) return sendJson(res, 403, rpcError(-32000, origin.message));
    const store = deps.observe(res);
    // Read while the token is checked: the body is at most MAX_BODY_BYTES (checked in accepts).
    const received = readBody(req);
    received.catch(() => undefined);
    if (!(await authenticate(req, res))) return;
    try {
      const bytes = await received;
      if (bytes === TOO_DEEP) {
        if (!res.headersSent) sendJson(res, 400, rpcError(-32600, tooDeepMessage(config.MAX_JSON_DEPTH)));
        return;
      }
      const raw = bytes.toString('utf8');
      store.body = JSON.parse(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
    } catch {
      if (!res.headersSent) sendJson(res, 400, rpcError(-32700, 'Parse error: body is not valid JSON'));
      return;
    }
    if (res.headersSent) return; // the per-request timeout answered first
    const body = store.body;
    try {
      await requestStore.run(store, () => deps.serveMcp(req, res, body));
    } catch (err) {
      if (res.headersSent) return; // the per-request timeout answered first
      req.log?.error({ err }, 'unhandled error');
      sendJson(res, 500, rpcError(-32603, 'Internal error'));
    }
  };

  return { accepts, serve };
}
