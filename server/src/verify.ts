// In-VPC verification: `node dist/verify.js <test listener MCP URL>`. `release verify` runs it as a
// one-off task from the candidate colour's own task definition, so the version and colour it must
// find behind the test listener are this task's own APP_VERSION and DEPLOYMENT_COLOR.
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';

const SAMPLES = 5;
const TIMEOUT_MS = 10_000;

function log(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);
}

async function verify(url: URL, expected: { version: string; color: string }): Promise<void> {
  const client = new Client({ name: 'mcp-deploy-verify', version: expected.version });
  const transport = new StreamableHTTPClientTransport(url, { fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }) });
  try {
    await client.connect(transport);
    log('info', 'initialize: ok', { server: client.getServerVersion() });
    const { tools } = await client.listTools(undefined, { timeout: TIMEOUT_MS });
    const names = tools.map((t) => t.name);
    if (!names.includes('server_info')) throw new Error(`tools/list has no server_info (tools: ${names.join(', ') || 'none'})`);
    log('info', 'tools/list: ok', { tools: names });
    // Each call is its own request, so the load balancer spreads them over the colour's tasks.
    for (let sample = 1; sample <= SAMPLES; sample += 1) {
      const result = (await client.callTool({ name: 'server_info', arguments: {} }, { timeout: TIMEOUT_MS })) as CallToolResult;
      if (result.isError) throw new Error(`server_info returned an error: ${JSON.stringify(result.content)}`);
      const info = (result.structuredContent ?? {}) as { version?: unknown; deploymentColor?: unknown };
      if (info.version !== expected.version || info.deploymentColor !== expected.color) {
        throw new Error(`server_info answered ${String(info.deploymentColor)} ${String(info.version)}, expected ${expected.color} ${expected.version}`);
      }
    }
    log('info', `server_info: ok x${SAMPLES}`, expected);
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const [target] = process.argv.slice(2);
  const url = target && URL.canParse(target) ? new URL(target) : undefined;
  const version = process.env.APP_VERSION;
  const color = process.env.DEPLOYMENT_COLOR;
  if (!url || !['http:', 'https:'].includes(url.protocol) || !version || !color) {
    log('error', 'usage: node dist/verify.js <http(s) test listener MCP URL>, with APP_VERSION and DEPLOYMENT_COLOR set (the task definition sets both)');
    return 2;
  }
  try {
    await verify(url, { version, color });
    log('info', 'verify: passed', { url: url.href });
    return 0;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    log('error', `verify: failed: ${error instanceof Error ? error.message : String(error)}${cause}`, { url: url.href });
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
