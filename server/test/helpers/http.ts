import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request by node:http, which sends forged Host headers that fetch() will not, with the body
 * either as one Content-Length write or in chunks (Transfer-Encoding: chunked).
 */
export function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; chunked?: boolean }): Promise<RawResponse> {
  const body = opts.body ?? '';
  const headers = { ...opts.headers, ...(opts.chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (opts.chunked) {
      if (!body) req.flushHeaders();
      for (let i = 0; i < body.length; i += 7) req.write(body.slice(i, i + 7));
      req.end();
    } else req.end(body);
  });
}

/** Headers that differ between two answers for reasons other than what was asked: framing, time and id. */
const INCIDENTAL = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** What an answer says, for comparing two: status, body and the headers that are not incidental. */
export const essentials = (r: RawResponse) => ({
  status: r.status,
  text: r.text,
  headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => !INCIDENTAL.has(k))),
});
