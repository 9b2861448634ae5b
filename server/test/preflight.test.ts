import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// The server tests need real binaries; a missing one must fail the run, never skip it.
for (const [bin, args, pkg] of [
  ['redis-server', ['--version'], 'redis-server'],
  ['promtool', ['--version'], 'prometheus'],
  ['openssl', ['version'], 'openssl'],
] as const) {
  test(`${bin} is installed (apt-get install -y ${pkg})`, () => {
    const r = spawnSync(bin, [...args], { encoding: 'utf8' });
    assert.equal(r.error, undefined, `${bin} not found on PATH: apt-get install -y ${pkg}`);
    assert.equal(r.status, 0, `${bin} ${args.join(' ')} failed: ${r.stderr}`);
  });
}

test('tests run on Node 24, as the image does', () => {
  assert.equal(process.versions.node.split('.')[0], '24', `running on node ${process.version}; npm scripts should use the node@24 dev dependency`);
});
