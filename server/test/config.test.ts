import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { samplingFor } from '../src/telemetry.js';
import { PathRefusedError, resolveUpstreamUrl } from '../src/upstream.js';
import { SERVER_ENTRY } from './helpers/procs.js';

const BASE = { UPSTREAM_URL: 'http://upstream.internal:8080' };

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(BASE);
    assert.equal(c.PORT, 8080);
    assert.equal(c.METRICS_PORT, 9464);
    assert.equal(c.KEEP_ALIVE_TIMEOUT_MS, 65_000);
    assert.ok(c.HEADERS_TIMEOUT_MS > c.KEEP_ALIVE_TIMEOUT_MS);
    assert.equal(c.REDIS_REQUIRED, false);
    assert.equal(c.AUTH_MODE, 'none');
    assert.equal(c.CACHE_TTL_SECONDS, 60);
    assert.equal(c.OTEL_TRACES_SAMPLER, 'parentbased_traceidratio');
    assert.equal(c.OTEL_TRACES_SAMPLER_ARG, 0.01);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['PORT', { PORT: 'eighty' }, /PORT/],
    ['PORT', { PORT: '70000' }, /PORT/],
    ['UPSTREAM_URL', { UPSTREAM_URL: '' }, /UPSTREAM_URL: is required/],
    ['UPSTREAM_URL', { UPSTREAM_URL: 'ftp://x' }, /UPSTREAM_URL: must be an http\(s\) URL/],
    ['REDIS_URL', { REDIS_URL: 'http://redis:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    ['REDIS_REQUIRED', { REDIS_REQUIRED: 'maybe' }, /REDIS_REQUIRED: must be true or false/],
    ['CACHE_TTL_SECONDS', { CACHE_TTL_SECONDS: '0' }, /CACHE_TTL_SECONDS/],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ['DEPLOYMENT_COLOR', { DEPLOYMENT_COLOR: 'Blue Team' }, /DEPLOYMENT_COLOR/],
    ['HEADERS_TIMEOUT_MS', { KEEP_ALIVE_TIMEOUT_MS: '65000', HEADERS_TIMEOUT_MS: '60000' }, /HEADERS_TIMEOUT_MS: must be greater/],
    ['STOP_TIMEOUT_SECONDS', { DRAIN_DELAY_SECONDS: '30', STOP_TIMEOUT_SECONDS: '20' }, /STOP_TIMEOUT_SECONDS/],
    ['JWKS_URL', { AUTH_MODE: 'jwt', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }, /JWKS_URL: required when AUTH_MODE=jwt/],
    ['MCP_RESOURCE_URL', { AUTH_MODE: 'jwt', JWKS_URL: 'https://i/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }, /MCP_RESOURCE_URL: required when AUTH_MODE=jwt/],
    ['AUTH_MODE', { AUTH_MODE: 'basic' }, /AUTH_MODE/],
    ['MAX_BUFFERED_BYTES', { MAX_BODY_BYTES: '1048576', MAX_BUFFERED_BYTES: '65536' }, /MAX_BUFFERED_BYTES: must be at least MAX_BODY_BYTES/],
    ['REDIS_IAM_CACHE_ID', { REDIS_URL: 'rediss://c:6379', REDIS_IAM_USER: 'mcp-app', AWS_REGION: 'eu-west-1' }, /REDIS_IAM_CACHE_ID: required when REDIS_IAM_USER is set/],
    ['AWS_REGION', { REDIS_URL: 'rediss://c:6379', REDIS_IAM_USER: 'mcp-app', REDIS_IAM_CACHE_ID: 'mcp-cache' }, /AWS_REGION: required when REDIS_IAM_USER is set/],
    ['REDIS_URL', { REDIS_URL: 'redis://c:6379', REDIS_IAM_USER: 'mcp-app', REDIS_IAM_CACHE_ID: 'mcp-cache', AWS_REGION: 'eu-west-1' }, /REDIS_URL: must be rediss:\/\/ when REDIS_IAM_USER is set/],
    ['REDIS_AUTH_TOKEN', { REDIS_URL: 'rediss://c:6379', REDIS_IAM_USER: 'mcp-app', REDIS_IAM_CACHE_ID: 'mcp-cache', AWS_REGION: 'eu-west-1', REDIS_AUTH_TOKEN: 't' }, /REDIS_AUTH_TOKEN: unset it/],
    ['REDIS_IAM_USER', { REDIS_IAM_USER: 'mcp app!' }, /REDIS_IAM_USER: must be an ElastiCache user id/],
    ['AWS_REGION', { AWS_REGION: 'Ireland' }, /AWS_REGION: must be an AWS region/],
    ['OTEL_TRACES_SAMPLER', { OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER: must be one of parentbased_traceidratio, /],
    ['OTEL_TRACES_SAMPLER_ARG', { OTEL_TRACES_SAMPLER_ARG: 'ten percent' }, /OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/],
    ['OTEL_TRACES_SAMPLER_ARG', { OTEL_TRACES_SAMPLER_ARG: '10' }, /OTEL_TRACES_SAMPLER_ARG/],
  ];
  for (const [variable, env, message] of bad) {
    it(`rejects a bad ${variable} by name (${JSON.stringify(env)})`, () => {
      assert.throws(
        () => loadConfig({ ...BASE, ...env }),
        (err: unknown) => err instanceof ConfigError && err.variable === variable && message.test(err.message),
      );
    });
  }

  it('stops the process with one line naming the variable, no stack and no secret', () => {
    const r = spawnSync(process.execPath, [SERVER_ENTRY], {
      env: { PATH: process.env.PATH, ...BASE, PORT: 'not-a-port', REDIS_AUTH_TOKEN: 'super-secret-token' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    const line = JSON.parse(lines[0]!) as { level: string; msg: string; variable: string };
    assert.equal(line.variable, 'PORT');
    assert.match(line.msg, /^invalid configuration: PORT: /);
    assert.ok(!r.stderr.includes('super-secret-token'));
    assert.ok(!r.stderr.includes(' at '), 'no stack trace');
  });
});

describe('trace sampling from the environment', () => {
  const sampling = (env: Record<string, string>) => {
    const { sampler, rootSampleRatio } = samplingFor(loadConfig({ ...BASE, ...env }));
    return { sampler: sampler.toString(), rootSampleRatio };
  };

  it('by default follows the caller and leaves the root ratio to withServerSpans', () => {
    const { sampler, rootSampleRatio } = sampling({});
    assert.match(sampler, /^ParentBased\{root=AlwaysOnSampler,/);
    assert.equal(rootSampleRatio, 0.01);
    assert.equal(sampling({ OTEL_TRACES_SAMPLER_ARG: '0.25' }).rootSampleRatio, 0.25);
  });

  it('hands every other sampler to the SDK with the validated ratio', () => {
    assert.deepEqual(sampling({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.3' }), { sampler: 'TraceIdRatioBased{0.3}', rootSampleRatio: undefined });
    assert.deepEqual(sampling({ OTEL_TRACES_SAMPLER: 'always_off' }), { sampler: 'AlwaysOffSampler', rootSampleRatio: undefined });
    assert.match(sampling({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }).sampler, /^ParentBased\{root=AlwaysOnSampler,/);
    assert.match(sampling({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).sampler, /^ParentBased\{root=AlwaysOffSampler,/);
  });
});

describe('upstream URL resolution (SSRF guard)', () => {
  const base = new URL('http://upstream.internal:8080/api/');
  it('keeps paths under the base URL', () => {
    assert.equal(resolveUpstreamUrl(base, '/items/1?x=y').href, 'http://upstream.internal:8080/api/items/1?x=y');
    assert.equal(resolveUpstreamUrl(new URL('http://u'), '/a%20b').href, 'http://u/a%20b');
  });
  for (const path of ['', 'items', 'http://evil/', '//evil/x', '/../x', '/a/./b', '/%2E%2E/x', '/%252e%252e/x', '/a\\b', '/a b', '/%00', '/%5c..', '/%zz', 5, null]) {
    it(`refuses ${JSON.stringify(path)}`, () => {
      assert.throws(() => resolveUpstreamUrl(base, path), PathRefusedError);
    });
  }
});
