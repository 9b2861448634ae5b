import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServerStack } from './helpers/procs.js';

const BASELINES = resolve(__dirname, '../../test/conformance');
const CLI = require.resolve('@modelcontextprotocol/conformance/dist/index.js');

/** Runs the conformance CLI (Node 24 here: it needs 22 or later) and gathers what it prints. */
function conformance(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

describe('the official MCP conformance suite, in server mode', () => {
  let stack: ServerStack;
  let results: string;

  before(async () => {
    stack = await ServerStack.start();
    results = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  });

  after(async () => {
    await stack?.stop();
    if (results) rmSync(results, { recursive: true, force: true });
  });

  // Every scenario each revision requires (and the extension and pending ones it runs too), on that
  // revision's wire; the baseline names each check the server fails on purpose, with the reason.
  for (const revision of ['2025-11-25', '2026-07-28']) {
    it(`passes the ${revision} requirement set but for the checks in test/conformance/${revision}.yml`, async () => {
      const run = await conformance([
        'server',
        '--url',
        stack.server.mcpUrl,
        '--requirements',
        revision,
        '--expected-failures',
        join(BASELINES, `${revision}.yml`),
        '--output-dir',
        join(results, revision),
      ]);
      assert.equal(run.code, 0, run.output.slice(run.output.indexOf('=== SUMMARY ===')));
      assert.match(run.output, /Baseline check passed/);
    });
  }
});
