import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerAuthChallengeResponse,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
  type AuthInfo,
  type OAuthTokenVerifier,
} from '@modelcontextprotocol/server';
import type { Config } from './config.js';
import { rpcError, sendJson } from './jsonrpc.js';
import type { Logger } from './logger.js';
import { requestStore, type RequestStore } from './mcp.js';
import { readBody, type BodyBudget, type BodyResult } from './request-body.js';
import { sendRefusal, type Refusal } from './request-gate.js';

export interface McpEndpointDeps {
  config: Config;
  verifier?: OAuthTokenVerifier;
  /** Request bodies held in memory across all requests (MAX_BUFFERED_BYTES). */
  budget: BodyBudget;
  observe: (res: ServerResponse) => RequestStore;
  /** The resource metadata URL named in 401 challenges. */
  resourceMetadataUrl?: string;
  serveMcp: (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown) => Promise<void>;
}

/** The media type of a JSON-RPC body, in UTF-8 (JSON's only encoding on the wire, RFC 8259). */
function jsonType(contentType: string | undefined): 'json' | 'other' | Refusal {
  if (contentType === undefined) return 'other';
  const [essence, ...params] = contentType.split(';');
  if (essence!.trim().toLowerCase() !== 'application/json') return 'other';
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'charset' && value!.replace(/"/g, '') !== 'utf-8') {
      return { status: 415, message: `Unsupported Media Type: charset ${value} (send the body as UTF-8)`, close: true };
    }
  }
  return 'json';
}

const NO_BODY: BodyResult = { bytes: Buffer.alloc(0) };

/**
 * Every request to /mcp that passed the Host and Origin checks (app.ts), on one code path whatever
 * its method or body framing (fixed-length or chunked): bearer auth while the body arrives, the
 * body limits of request-body.ts, the per-request timeout and metrics, then the SDK. One path
 * means one set of answers to test.
 */
export function createMcpEndpoint(deps: McpEndpointDeps) {
  const { config, verifier, budget } = deps;
  const limits = { maxBytes: config.MAX_BODY_BYTES, maxDepth: config.MAX_JSON_DEPTH, timeoutMs: config.BODY_TIMEOUT_MS };
  const authenticate = async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<boolean> => {
    if (!verifier) return true;
    const options = { verifier, requiredScopes: config.JWT_REQUIRED_SCOPES, resourceMetadataUrl: deps.resourceMetadataUrl };
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

  const refuse = (res: ServerResponse, refusal: Refusal) => {
    if (!res.headersSent) sendRefusal(res, refusal);
  };

  const serve = async (req: IncomingMessage & { auth?: AuthInfo; log?: Logger }, res: ServerResponse): Promise<void> => {
    const store = deps.observe(res);

    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      // Not inflated: a compressed body's size says nothing of what it would expand to.
      return refuse(res, { status: 415, message: `Unsupported Media Type: Content-Encoding ${encoding} (send the body uncompressed)`, close: true });
    }
    const type = req.method === 'POST' ? jsonType(req.headers['content-type']) : 'other';
    if (typeof type === 'object') return refuse(res, type);

    // Read while the token is checked. A body that is not POSTed JSON is read too, within the same
    // limits, and the SDK then finds the stream empty and answers 405 or 415.
    const framed = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    const received = framed ? readBody(req, res, limits, budget) : Promise.resolve(NO_BODY);
    if (!(await authenticate(req, res))) return;
    const result = await received;
    if (res.headersSent) return; // the per-request timeout answered while the body was arriving
    if ('refusal' in result) return refuse(res, result.refusal);

    let body: unknown;
    if (type === 'json') {
      try {
        const raw = result.bytes.toString('utf8');
        body = store.body = JSON.parse(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
      } catch {
        return sendJson(res, 400, rpcError(-32700, 'Parse error: body is not valid JSON'));
      }
    }
    try {
      await requestStore.run(store, () => deps.serveMcp(req, res, body));
    } catch (err) {
      if (res.headersSent) return; // the per-request timeout answered first
      req.log?.error({ err }, 'unhandled error');
      sendJson(res, 500, rpcError(-32603, 'Internal error'));
    }
  };

  return { serve };
}
