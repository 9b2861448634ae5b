/** The path was refused before any request was made (SSRF guard). */
export class PathRefusedError extends Error {}

/** The upstream answered, but not with content (3xx, 4xx, too large): its fault is not an outage, so it never trips the breaker. */
export class UpstreamClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The upstream is unhealthy (5xx, network error, timeout): counts as a breaker failure. */
export class UpstreamError extends Error {}

/** No answer within UPSTREAM_TIMEOUT_MS: a breaker failure, and counted as a timeout too. */
export class UpstreamTimeout extends UpstreamError {}

export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: string;
}

function decodeFully(s: string): string {
  // Repeated decoding catches double-encoded dots (%252e%252e) that some upstreams decode twice.
  let prev = s;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(prev);
    } catch {
      throw new PathRefusedError('path has malformed percent-encoding');
    }
    if (next === prev) return next;
    prev = next;
  }
  return prev;
}

/**
 * Resolves `path` against the upstream base URL, refusing anything that could reach another
 * origin or escape the base path: absolute or scheme-relative URLs, backslashes, control
 * characters, and `.`/`..` segments in any encoding.
 */
export function resolveUpstreamUrl(base: URL, path: unknown): URL {
  if (typeof path !== 'string' || path.length === 0) throw new PathRefusedError('path must be a non-empty string');
  if (path.length > 2048) throw new PathRefusedError('path is longer than 2048 characters');
  if (!path.startsWith('/')) throw new PathRefusedError('path must start with "/" (absolute URLs are refused)');
  if (path.startsWith('//')) throw new PathRefusedError('path must not start with "//" (other hosts are refused)');
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u0020\u007f\\]/.test(path)) throw new PathRefusedError('path contains whitespace, control characters or backslashes');
  const pathOnly = path.split(/[?#]/, 1)[0]!;
  const decoded = decodeFully(pathOnly);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) throw new PathRefusedError('path encodes control characters or backslashes');
  if (decoded.split('/').some((seg) => seg === '..' || seg === '.')) throw new PathRefusedError('path must not contain "." or ".." segments');
  if (decoded.startsWith('//')) throw new PathRefusedError('path must not start with "//" (other hosts are refused)');

  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(`${base.origin}${basePath}${path}`);
  if (url.origin !== base.origin || url.username || url.password || !url.pathname.startsWith(`${basePath}/`)) {
    throw new PathRefusedError('path resolves outside the upstream base URL');
  }
  return url;
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new UpstreamClientError(res.status, `upstream body is larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new UpstreamClientError(res.status, `upstream body is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function fetchUpstream(url: URL, timeoutMs: number, maxBytes: number, userAgent: string): Promise<UpstreamResponse> {
  let res: Response;
  try {
    // Redirects are not followed: a redirect could point anywhere, including the metadata endpoint.
    res = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: '*/*', 'user-agent': userAgent },
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') throw new UpstreamTimeout(`upstream timed out after ${timeoutMs} ms`);
    throw new UpstreamError(`upstream unreachable: ${e.message}`);
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    throw new UpstreamError(`upstream answered HTTP ${res.status}`);
  }
  if (res.status >= 300) {
    await res.body?.cancel();
    throw new UpstreamClientError(res.status, `upstream answered HTTP ${res.status}`);
  }
  let body: string;
  try {
    body = await readCapped(res, maxBytes);
  } catch (err) {
    if (err instanceof UpstreamClientError) throw err;
    throw new UpstreamError(`upstream body read failed: ${(err as Error).message}`);
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/octet-stream', body };
}
