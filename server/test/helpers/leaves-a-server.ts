// A test file whose before hook fails after starting a server, as jwks-outage's did when its second
// server lost a port race. test-helpers.test.ts runs it under its own `node --test`; the suite's
// glob (*.test.js) never picks it up.
import { before, describe, it } from 'node:test';
import { ServerProcess } from './procs.js';

describe('a before hook that fails after starting a server', () => {
  before(async () => {
    const server = await ServerProcess.start({ UPSTREAM_URL: 'http://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:1' });
    console.log(`server pid ${server.child.pid}`);
    throw new Error('the second server did not start');
  });

  it('never runs', () => undefined);
});
