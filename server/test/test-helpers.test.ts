import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from './helpers/procs.js';

describe('the test helpers', () => {
  it('hand out ports below the ephemeral range, never the same one twice', async () => {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports) assert.ok(port < ephemeralLow, `${port} is in the ephemeral range, where outgoing connections take ports`);
  });

  it('kill what a failed test file left running, so its process ends instead of hanging the run', async () => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // a runner of its own, not a child reporting to this one
    const child = spawn(process.execPath, ['--test', join(__dirname, 'helpers', 'leaves-a-server.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const hung = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(hung);
    const pid = Number(/server pid (\d+)/.exec(out)?.[1]);
    assert.ok(pid > 0, out);
    try {
      assert.equal(signal, null, `the file did not end by itself within 30 s:\n${out}`);
      assert.equal(code, 1, out);
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `server ${pid} is still running`);
    } finally {
      try {
        process.kill(pid, 'SIGKILL'); // only when the check above failed: it must not outlive this test either
      } catch {
        // gone already, as it should be
      }
    }
  });
});
