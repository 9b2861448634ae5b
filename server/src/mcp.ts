import { AsyncLocalStorage } from 'node:async_hooks';
import { McpServer, type CallToolResult, type Transport } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Config } from './config.js';
import { ToolFailure, type CachedFetcher } from './fetcher.js';
import type { Logger } from './logger.js';

/** What the answer to an HTTP request said, when its status was 2xx. */
export type Answer = 'success' | 'tool_error' | 'rpc_error';

/** Per-HTTP-request facts: the parsed body once read, and what the server answered. */
export interface RequestStore {
  body?: unknown;
  answer: Answer;
}
export const requestStore = new AsyncLocalStorage<RequestStore>();

export const TOOL_NAMES = ['cached_fetch', 'server_info'] as const;

/**
 * The SDK converts tool schemas to JSON Schema on every tools/call (memoised per server instance,
 * and there is one instance per request). Memoising the conversion on the schema itself keeps a
 * fresh server per request cheap.
 */
function memoJsonSchema<T extends z.ZodType>(schema: T): T {
  const std = schema['~standard'];
  const cache = new Map<string, Record<string, unknown>>();
  const memo =
    (io: 'input' | 'output') =>
    (opts: { target: string }): Record<string, unknown> => {
      const key = `${io}:${opts.target}`;
      let json = cache.get(key);
      if (!json) cache.set(key, (json = std.jsonSchema[io](opts as Parameters<typeof std.jsonSchema.input>[0])));
      return json;
    };
  return Object.create(schema, { '~standard': { value: { ...std, jsonSchema: { input: memo('input'), output: memo('output') } } } }) as T;
}

// Schemas are built once, outside the per-request factory.
const fetchInput = z.object({
  path: z.string().min(1).max(2048).describe('Path (and optional query) under UPSTREAM_URL, starting with "/"'),
});
const fetchOutput = z.object({
  body: z.string(),
  contentType: z.string(),
  cache: z.enum(['hit', 'miss', 'stale']),
  stale: z.boolean(),
  ageSeconds: z.number(),
  staleReason: z.string().optional(),
});
const fetchInputSchema = memoJsonSchema(fetchInput);
const fetchOutputSchema = memoJsonSchema(fetchOutput);
const infoOutput = z.object({
  name: z.string(),
  version: z.string(),
  deploymentColor: z.string(),
  uptimeSeconds: z.number(),
  startedAt: z.string(),
});
const infoOutputSchema = memoJsonSchema(infoOutput);

export interface McpDeps {
  config: Config;
  fetcher: CachedFetcher;
  log: Logger;
  startedAt: Date;
}

function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/**
 * Notes in the store each answer the server sends: a JSON-RPC error, or a tool result with
 * isError. Watching the transport sees the answers the SDK makes itself (an unknown tool,
 * arguments that fail the schema, an unknown method) as well as our tools' own.
 */
function watchAnswers(server: McpServer, store: RequestStore): void {
  const connect = server.connect.bind(server);
  server.connect = (transport: Transport) => {
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if ('error' in message) store.answer = 'rpc_error';
      else if ('result' in message && message.result.isError === true && store.answer === 'success') store.answer = 'tool_error';
      return send(message, options);
    };
    return connect(transport);
  };
}

/** The tool a single tools/call request names, when it is one of ours. */
function toolCalled(body: unknown): (typeof TOOL_NAMES)[number] | undefined {
  const { method, params } = (body ?? {}) as { method?: unknown; params?: { name?: unknown } };
  return method === 'tools/call' ? TOOL_NAMES.find((t) => t === params?.name) : undefined;
}

/**
 * Builds the MCP server for one request: stateless, so any task of either colour can answer it.
 * The server lives for that one request, so a tools/call gets only the tool it names: registering
 * the rest (and the resource handlers) would be garbage on the hottest path (BENCH.md). Every
 * other request, tools/list and initialize included, sees everything.
 */
export function createMcpServerFactory(deps: McpDeps): () => McpServer {
  const { config, fetcher, log } = deps;
  const name = 'mcp-deploy-server';
  return () => {
    const store = requestStore.getStore();
    const called = toolCalled(store?.body);
    const server = new McpServer({ name, version: config.APP_VERSION }, { capabilities: { tools: {}, resources: {} } });
    if (store) watchAnswers(server, store);

    if (!called || called === 'cached_fetch') server.registerTool(
      'cached_fetch',
      {
        title: 'Cached fetch',
        description: 'GET a path under the configured upstream and return the body as text. Responses are cached in Redis; a stale copy is served (marked stale) when the upstream is failing.',
        inputSchema: fetchInputSchema,
        outputSchema: fetchOutputSchema,
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      async ({ path }) => {
        try {
          const r = await fetcher.fetch(path);
          return { content: [{ type: 'text', text: r.body }], structuredContent: { ...r } };
        } catch (err) {
          if (err instanceof ToolFailure) return toolError(err.message);
          log.error({ err }, 'cached_fetch failed unexpectedly');
          return toolError('internal error');
        }
      },
    );

    if (!called || called === 'server_info') server.registerTool(
      'server_info',
      {
        title: 'Server info',
        description: 'Version, deployment colour and uptime of the task that answered.',
        outputSchema: infoOutputSchema,
        annotations: { readOnlyHint: true },
      },
      async () => {
        const info = {
          name,
          version: config.APP_VERSION,
          deploymentColor: config.DEPLOYMENT_COLOR,
          uptimeSeconds: Math.round(process.uptime()),
          startedAt: deps.startedAt.toISOString(),
        };
        return { content: [{ type: 'text', text: JSON.stringify(info) }], structuredContent: info };
      },
    );

    if (!called) server.registerResource(
      'circuit-breakers',
      'status://circuit-breakers',
      { title: 'Circuit breakers', description: 'Each circuit breaker with its state and counters.', mimeType: 'application/json' },
      async (uri) => ({
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ breakers: fetcher.status() }) }],
      }),
    );
    return server;
  };
}
