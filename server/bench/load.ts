// What both benchmark scripts send and measure: the cached_fetch call, its headers, the settings
// overrides, the load run, a process's CPU time, and the loopback HTTP servers they stand up.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

export const CONCURRENCY = 32;

/** Settings of this server to change for one run, as JSON in BENCH_PROD_ENV. */
export const prodEnvOverrides = (): Record<string, string> => JSON.parse(process.env.BENCH_PROD_ENV ?? '{}') as Record<string, string>;

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A `tools/call cached_fetch` request in the 2026-07-28 per-request form. */
export const callBody = (path: string, id = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'cached_fetch', arguments: { path }, _meta: ENVELOPE } });

export const mcpHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'cached_fetch',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

/** autocannon at CONCURRENCY for `seconds`; any failed request fails the run. */
export async function load(url: string, headers: Record<string, string>, body: string, seconds: number): Promise<autocannon.Result> {
  const result = await autocannon({ url, method: 'POST', headers, body, connections: CONCURRENCY, duration: seconds });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`load run against ${url} had ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  }
  return result;
}

/** User + system CPU seconds a process (or, with `tid`, one of its threads) has used so far. */
export function cpuSeconds(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** An HTTP server on a free loopback port. */
export async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
