import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';

export const LEGACY = '2025-11-25' as const;
export const MODERN = '2026-07-28' as const;
export type Revision = typeof LEGACY | typeof MODERN;

/** Connects the official SDK client over Streamable HTTP, negotiating exactly the given protocol revision. */
export async function connect(mcpUrl: string, revision: Revision = LEGACY, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client(
    { name: 'mcp-server-tests', version: '1.0.0' },
    revision === MODERN ? { versionNegotiation: { mode: { pin: MODERN } } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

export interface FetchOutput {
  body: string;
  cache: 'hit' | 'miss' | 'stale';
  stale: boolean;
  staleReason?: string;
}

export async function cachedFetch(client: Client, path: string): Promise<{ result: CallToolResult; out?: FetchOutput; text: string }> {
  const result = (await client.callTool({ name: 'cached_fetch', arguments: { path } })) as CallToolResult;
  const first = result.content?.[0];
  const text = first && first.type === 'text' ? first.text : '';
  return { result, out: result.structuredContent as FetchOutput | undefined, text };
}

export interface BreakerSummary {
  name: string;
  state: string;
  counters: Record<string, number>;
  paths: Record<string, number>;
}

export async function breakerStatus(client: Client): Promise<BreakerSummary> {
  const res = await client.readResource({ uri: 'status://circuit-breakers' });
  const c = res.contents[0] as { text: string };
  return (JSON.parse(c.text) as { breakers: BreakerSummary[] }).breakers[0]!;
}
