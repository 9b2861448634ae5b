// The baseline for the benchmark: the SDK's stateless handler on plain node:http, one tool doing
// the same Redis lookup as cached_fetch's hit path, and none of the production features.
import { hash } from 'node:crypto';
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { createClient } from 'redis';
import { z } from 'zod';

const redis = createClient({ url: process.env.REDIS_URL });
const prefix = process.env.BENCH_KEY_PREFIX ?? '';
const input = z.object({ path: z.string() });

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool('cached_fetch', { inputSchema: input }, async ({ path }) => {
    const raw = await redis.get(prefix + hash('sha256', path));
    const body = raw ? (JSON.parse(raw) as { body: string }).body : '';
    return { content: [{ type: 'text', text: body }] };
  });
  return server;
});

void redis.connect().then(() => {
  createServer(toNodeHandler(handler)).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
});
