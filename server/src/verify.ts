// In-VPC verification: `node dist/verify.js <test listener MCP URL>`. `release verify` runs it as a
// one-off task from the candidate colour's own task definition, so the version and colour it must
// find behind the test listener are this task's own APP_VERSION and DEPLOYMENT_COLOR. Against a
// server with JWT auth, the task runs as the verifier's role, the one role that may read the OAuth
// client's secret, and gets its token with the client-credentials grant as any MCP client would.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ClientCredentialsProvider, Client, discoverAuthorizationServerMetadata, fetchToken, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';

const SAMPLES = 5;
const TIMEOUT_MS = 10_000;

type Log = (level: 'info' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** One JSON object per line, as the server logs (the CLI prints the task's lines from CloudWatch Logs). */
const jsonLines =
  (write: (line: string) => void): Log =>
  (level, msg, fields = {}) =>
    write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);

async function verify(log: Log, url: URL, expected: { version: string; color: string }, accessToken?: string): Promise<void> {
  const client = new Client({ name: 'mcp-deploy-verify', version: expected.version });
  const transport = new StreamableHTTPClientTransport(url, {
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }),
    ...(accessToken ? { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } } : {}),
  });
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

/** The OAuth client the release CLI names in the task's overrides (none of it secret: the secret stays in Secrets Manager). */
const CLIENT_VARIABLES = ['MCP_VERIFY_ISSUER', 'MCP_VERIFY_CLIENT_ID', 'MCP_VERIFY_CLIENT_SECRET_ARN'] as const;

/**
 * An access token from the configured issuer by the client-credentials grant, or undefined for a
 * server without auth. The token is fetched from the issuer directly rather than by the SDK's
 * discovery through the server's 401: that names the production URL as the resource, whose origin
 * is not the test listener's (another port), and a client rightly refuses that mismatch.
 */
async function accessToken(log: Log, env: NodeJS.ProcessEnv, secrets: SecretsManagerClient): Promise<string | undefined> {
  if (!env.MCP_VERIFY_CLIENT_SECRET_ARN) return undefined;
  const secretArn = env.MCP_VERIFY_CLIENT_SECRET_ARN;
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn })).catch((error: unknown) => {
    throw new Error(`cannot read the client secret ${secretArn}: ${error instanceof Error ? error.message : String(error)} (the verify task runs as the environment's verifier role, which alone may read it)`);
  });
  if (!secret.SecretString) throw new Error(`the client secret ${secretArn} has no SecretString; store the client secret as plain text`);
  const issuer = env.MCP_VERIFY_ISSUER!;
  const metadata = await discoverAuthorizationServerMetadata(issuer);
  if (!metadata) throw new Error(`${issuer} publishes no OAuth or OpenID metadata (/.well-known/oauth-authorization-server or openid-configuration)`);
  // expectedIssuer: the secret goes to this authorization server only.
  const provider = new ClientCredentialsProvider({ clientId: env.MCP_VERIFY_CLIENT_ID!, clientSecret: secret.SecretString, clientName: 'mcp-deploy-verify', expectedIssuer: issuer });
  const tokens = await fetchToken(provider, issuer, { metadata, ...(env.MCP_VERIFY_SCOPE ? { scope: env.MCP_VERIFY_SCOPE } : {}) });
  log('info', 'token: ok', { issuer, scope: env.MCP_VERIFY_SCOPE });
  return tokens.access_token;
}

/** The whole check, as the task runs it: 0 passed, 1 failed, 2 misconfigured. */
export async function runVerify(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  { secrets = new SecretsManagerClient({}), write = (line: string) => void process.stdout.write(line) }: { secrets?: SecretsManagerClient; write?: (line: string) => void } = {},
): Promise<number> {
  const log = jsonLines(write);
  const [target] = argv;
  const url = target && URL.canParse(target) ? new URL(target) : undefined;
  const version = env.APP_VERSION;
  const color = env.DEPLOYMENT_COLOR;
  if (!url || !['http:', 'https:'].includes(url.protocol) || !version || !color) {
    log('error', 'usage: node dist/verify.js <http(s) test listener MCP URL>, with APP_VERSION and DEPLOYMENT_COLOR set (the task definition sets both)');
    return 2;
  }
  const given = CLIENT_VARIABLES.filter((name) => env[name]);
  if (given.length > 0 && given.length < CLIENT_VARIABLES.length) {
    log('error', `set all of ${CLIENT_VARIABLES.join(', ')} or none; missing ${CLIENT_VARIABLES.filter((name) => !env[name]).join(', ')}`);
    return 2;
  }
  try {
    await verify(log, url, { version, color }, await accessToken(log, env, secrets));
    log('info', 'verify: passed', { url: url.href });
    return 0;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    log('error', `verify: failed: ${error instanceof Error ? error.message : String(error)}${cause}`, { url: url.href });
    return 1;
  } finally {
    secrets.destroy();
  }
}

if (require.main === module) {
  void runVerify(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
