import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SERVER_ROOT, ServerStack, type ServerProcess } from './helpers/procs.js';

const VERIFY_ENTRY = join(SERVER_ROOT, 'dist', 'verify.js');

/** The entry point as the one-off verify task runs it: the candidate's own APP_VERSION and DEPLOYMENT_COLOR, the URL as its argument. */
function runVerify(url: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, [VERIFY_ENTRY, url], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string });
  return { code: run.status, lines, messages: lines.map((l) => l.msg) };
}

describe('dist/verify.js, the in-VPC verify entry point', () => {
  let stack: ServerStack;
  let server: ServerProcess;

  before(async () => {
    stack = await ServerStack.start({ APP_VERSION: '1.4.0', DEPLOYMENT_COLOR: 'green' });
    server = stack.server;
  });

  after(async () => {
    await stack?.stop();
  });

  it('passes, in JSON log lines, when the server behind the URL is its own colour and version', () => {
    const run = runVerify(server.mcpUrl, { APP_VERSION: '1.4.0', DEPLOYMENT_COLOR: 'green' });
    assert.equal(run.code, 0, JSON.stringify(run.lines));
    assert.deepEqual(run.messages, ['initialize: ok', 'tools/list: ok', 'server_info: ok x5', 'verify: passed']);
  });

  it('fails with exit 1 naming both sides when another version answers', () => {
    const run = runVerify(server.mcpUrl, { APP_VERSION: '1.5.0', DEPLOYMENT_COLOR: 'green' });
    assert.equal(run.code, 1);
    assert.match(run.messages.at(-1)!, /^verify: failed: server_info answered green 1\.4\.0, expected green 1\.5\.0$/);
  });

  it('fails with exit 1 when nothing listens at the URL', () => {
    const run = runVerify('http://127.0.0.1:9/mcp', { APP_VERSION: '1.4.0', DEPLOYMENT_COLOR: 'green' });
    assert.equal(run.code, 1);
    assert.match(run.messages.at(-1)!, /^verify: failed: /);
  });

  it('exits 2 with usage when the URL or the task settings are missing', () => {
    assert.equal(runVerify('not a url', { APP_VERSION: '1.4.0', DEPLOYMENT_COLOR: 'green' }).code, 2);
    assert.equal(runVerify(server.mcpUrl, {}).code, 2);
  });
});
