import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { runVerify } from '../src/verify.js';
import { ServerStack } from './helpers/procs.js';

const AUDIENCE = 'https://mcp.example.com/mcp';
const CLIENT_ID = 'mcp-deploy-verify';
const CLIENT_SECRET = 'verifier-secret-value';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:mcp-production-verifier-AbCdEf';
const SCOPE = 'mcp:tools';

/**
 * A local OAuth authorization server, as Cognito, Entra ID, Auth0 or Okta serve one: RFC 8414
 * metadata at the issuer, a JWKS, and a token endpoint that takes the client-credentials grant with
 * client_secret_basic and signs an access token for the MCP server's audience.
 */
class AuthorizationServer {
  readonly grants: { clientId: string; scope?: string }[] = [];
  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    private readonly key: CryptoKey,
    private readonly jwk: object,
  ) {}

  static async start(): Promise<AuthorizationServer> {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const as = new AuthorizationServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pair.privateKey, jwk);
    server.on('request', (req, res) => void as.handle(req).then(([status, body]) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))));
    return as;
  }

  /** An access token for the MCP server's audience, as the token endpoint issues it. */
  sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(this.issuer).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(this.key);
  }

  private async handle(req: IncomingMessage): Promise<[number, object]> {
    const path = new URL(req.url!, this.issuer).pathname;
    if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      return [200, { issuer: this.issuer, authorization_endpoint: `${this.issuer}/authorize`, token_endpoint: `${this.issuer}/token`, jwks_uri: `${this.issuer}/jwks.json`, grant_types_supported: ['client_credentials'], token_endpoint_auth_methods_supported: ['client_secret_basic'], response_types_supported: ['token'] }];
    }
    if (path === '/jwks.json') return [200, { keys: [this.jwk] }];
    if (path !== '/token' || req.method !== 'POST') return [404, { error: 'not_found' }];
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = new URLSearchParams(body);
    const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
    if (form.get('grant_type') !== 'client_credentials' || id !== CLIENT_ID || secret !== CLIENT_SECRET) return [401, { error: 'invalid_client' }];
    this.grants.push({ clientId: id, scope: form.get('scope') ?? undefined });
    return [200, { access_token: await this.sign({ scope: form.get('scope') ?? '', client_id: id }), token_type: 'Bearer', expires_in: 300 }];
  }

  close(): void {
    this.server.close();
  }
}

describe('dist/verify.js against a server with JWT auth: the client-credentials grant, the secret read from Secrets Manager', () => {
  let issuer: AuthorizationServer;
  let stack: ServerStack;
  const secrets = mockClient(SecretsManagerClient);
  const task = { APP_VERSION: '2.0.0', DEPLOYMENT_COLOR: 'blue' };

  before(async () => {
    issuer = await AuthorizationServer.start();
    stack = await ServerStack.start({
      ...task,
      AUTH_MODE: 'jwt',
      JWKS_URL: `${issuer.issuer}/jwks.json`,
      JWT_ISSUER: issuer.issuer,
      JWT_AUDIENCE: AUDIENCE,
      JWT_REQUIRED_SCOPES: SCOPE,
      MCP_RESOURCE_URL: AUDIENCE,
    });
  });
  after(async () => {
    await stack?.stop();
    issuer?.close();
    secrets.restore();
  });
  afterEach(() => secrets.reset());

  const client = (overrides: Record<string, string> = {}) => ({ ...task, MCP_VERIFY_ISSUER: issuer.issuer, MCP_VERIFY_CLIENT_ID: CLIENT_ID, MCP_VERIFY_CLIENT_SECRET_ARN: SECRET_ARN, MCP_VERIFY_SCOPE: SCOPE, ...overrides });
  /** Exit code and the last log line's message (the entry point writes JSON lines to stdout). */
  const run = async (env: Record<string, string>) => {
    const lines: string[] = [];
    const secretsClient = new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    const code = await runVerify([stack.server.mcpUrl], env, { secrets: secretsClient, write: (line) => lines.push(line) });
    return { code, last: (JSON.parse(lines.at(-1)!) as { msg: string }).msg };
  };

  it('passes: it reads the secret by its ARN, gets a token from the configured issuer and verifies with it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: CLIENT_SECRET });
    assert.deepEqual(await run(client()), { code: 0, last: 'verify: passed' });
    assert.deepEqual(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input), [{ SecretId: SECRET_ARN }]);
    assert.deepEqual(issuer.grants.at(-1), { clientId: CLIENT_ID, scope: SCOPE });
  });

  it('fails without credentials: the server answers 401 and verify exits 1', async () => {
    const { code, last } = await run(task);
    assert.equal(code, 1);
    assert.match(last, /invalid_token/);
  });

  it('fails with the wrong secret, without the required scope, and when the secret cannot be read', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'not-the-secret' });
    const wrong = await run(client());
    assert.equal(wrong.code, 1);
    assert.match(wrong.last, /invalid_client/);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: CLIENT_SECRET });
    const unscoped = await run(client({ MCP_VERIFY_SCOPE: 'other' }));
    assert.equal(unscoped.code, 1);
    assert.match(unscoped.last, /Insufficient scope: required "mcp:tools"/, 'a token without mcp:tools');
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }));
    const unreadable = await run(client());
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.last, /cannot read the client secret .*: User is not authorized/);
  });

  it('takes the scopes from scp as Entra ID and Okta issue them, as well as from scope', async () => {
    const { createJwtVerifier } = await import('../src/auth.js');
    const { loadConfig } = await import('../src/config.js');
    const verifier = createJwtVerifier(loadConfig({ UPSTREAM_URL: 'https://api.example.com', AUTH_MODE: 'jwt', JWKS_URL: `${issuer.issuer}/jwks.json`, JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: AUDIENCE, MCP_RESOURCE_URL: AUDIENCE }));
    const token = (claims: Record<string, unknown>) => issuer.sign(claims);
    assert.deepEqual((await verifier.verifyAccessToken(await token({ scp: ['mcp:tools', 'other'] }))).scopes, ['mcp:tools', 'other']);
    assert.deepEqual((await verifier.verifyAccessToken(await token({ scp: 'mcp:tools other' }))).scopes, ['mcp:tools', 'other']);
    assert.deepEqual((await verifier.verifyAccessToken(await token({ scope: 'mcp:tools' }))).scopes, ['mcp:tools']);
  });

  it('sends the secret to the configured issuer only, never to one the server advertises', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: CLIENT_SECRET });
    const before = issuer.grants.length;
    assert.equal((await run(client({ MCP_VERIFY_ISSUER: 'https://login.example.com' }))).code, 1);
    assert.equal(issuer.grants.length, before, 'no token request reached the advertised issuer');
  });

  it('exits 2 naming the missing variable when only part of the client is given', async () => {
    const { MCP_VERIFY_CLIENT_ID: _, ...partial } = client();
    assert.deepEqual(await run(partial), { code: 2, last: 'set all of MCP_VERIFY_ISSUER, MCP_VERIFY_CLIENT_ID, MCP_VERIFY_CLIENT_SECRET_ARN or none; missing MCP_VERIFY_CLIENT_ID' });
  });
});
