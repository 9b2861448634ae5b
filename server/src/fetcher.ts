import { hash } from 'node:crypto';
import CircuitBreaker from 'opossum';
import type { Cache, CacheEntry } from './cache.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { BREAKER_STATE_VALUE, type BreakerStateName, type Metrics } from './metrics.js';
import { UpstreamClientError, UpstreamTimeout, fetchUpstream, resolveUpstreamUrl, type UpstreamResponse } from './upstream.js';

export type CacheOutcome = 'hit' | 'miss' | 'stale';

export interface FetchResult {
  body: string;
  contentType: string;
  cache: CacheOutcome;
  stale: boolean;
  ageSeconds: number;
  staleReason?: string;
}

/** A refusal or failure the tool reports as a tool error (isError), with a message safe to show. */
export class ToolFailure extends Error {}

export interface BreakerStatus {
  name: string;
  state: BreakerStateName;
  counters: { successes: number; failures: number; rejections: number; timeouts: number };
  window: { fires: number; failures: number; successes: number; rejects: number };
  options: { errorThresholdPercentage: number; volumeThreshold: number; rollingCountTimeout: number; resetTimeout: number };
}

function stateOf(b: CircuitBreaker): BreakerStateName {
  return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
}

/** `cached_fetch`: Redis cache in front of an upstream call that runs inside a circuit breaker. */
export class CachedFetcher {
  static readonly BREAKER = 'upstream';
  private readonly base: URL;
  private readonly keyPrefix: string;
  private readonly breaker: CircuitBreaker<[URL], UpstreamResponse>;
  private readonly totals = { successes: 0, failures: 0, rejections: 0, timeouts: 0 };

  constructor(
    private readonly config: Config,
    private readonly cache: Cache,
    private readonly metrics: Metrics,
    log: Logger,
  ) {
    this.base = new URL(config.UPSTREAM_URL);
    // The base URL is part of the key so that pointing a colour at another upstream never serves the old one's data.
    this.keyPrefix = `mcp:fetch:v1:${hash('sha256', this.base.href).slice(0, 16)}:`;
    const userAgent = `mcp-server/${config.APP_VERSION}`;
    this.breaker = new CircuitBreaker((url: URL) => fetchUpstream(url, config.UPSTREAM_TIMEOUT_MS, config.UPSTREAM_MAX_BYTES, userAgent), {
      name: CachedFetcher.BREAKER,
      // fetchUpstream aborts the request itself, which opossum's timeout would not; so opossum never
      // sees a timeout, and the 'failure' handler counts them.
      timeout: false,
      errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      rollingCountTimeout: config.BREAKER_ROLLING_WINDOW_MS,
      rollingCountBuckets: 10,
      resetTimeout: config.BREAKER_RESET_TIMEOUT_MS,
      errorFilter: (err: unknown) => err instanceof UpstreamClientError,
    });
    const label = { breaker: CachedFetcher.BREAKER };
    const setState = (s: BreakerStateName) => {
      metrics.breakerState.set(label, BREAKER_STATE_VALUE[s]);
      log.warn({ breaker: CachedFetcher.BREAKER, state: s }, 'circuit breaker state changed');
    };
    metrics.breakerState.set(label, 0);
    // Touch the counters so the series exist (at 0) before the first event: alarms need a baseline.
    metrics.breakerSuccesses.inc(label, 0);
    metrics.breakerFailures.inc(label, 0);
    metrics.breakerRejections.inc(label, 0);
    metrics.breakerTimeouts.inc(label, 0);
    this.breaker.on('open', () => setState('open'));
    this.breaker.on('halfOpen', () => setState('half-open'));
    this.breaker.on('close', () => setState('closed'));
    this.breaker.on('success', () => {
      this.totals.successes++;
      metrics.breakerSuccesses.inc(label);
    });
    this.breaker.on('failure', (err: unknown) => {
      this.totals.failures++;
      metrics.breakerFailures.inc(label);
      if (!(err instanceof UpstreamTimeout)) return;
      this.totals.timeouts++;
      metrics.breakerTimeouts.inc(label);
    });
    this.breaker.on('reject', () => {
      this.totals.rejections++;
      metrics.breakerRejections.inc(label);
    });
  }

  async fetch(path: unknown): Promise<FetchResult> {
    let url: URL;
    try {
      url = resolveUpstreamUrl(this.base, path);
    } catch (err) {
      throw new ToolFailure(`path refused: ${(err as Error).message}`);
    }
    const key = this.keyPrefix + hash('sha256', url.pathname + url.search);
    const cached = await this.cache.get(key);
    const now = Date.now();
    const ttlMs = this.config.CACHE_TTL_SECONDS * 1000;
    const age = (e: CacheEntry) => Math.max(0, Math.floor((now - e.fetchedAt) / 1000));
    if (cached && now - cached.fetchedAt < ttlMs) {
      this.metrics.cacheHits.inc();
      return { body: cached.body, contentType: cached.contentType, cache: 'hit', stale: false, ageSeconds: age(cached) };
    }
    this.metrics.cacheMisses.inc();

    let res: UpstreamResponse;
    try {
      res = await this.breaker.fire(url);
    } catch (err) {
      if (err instanceof UpstreamClientError) throw new ToolFailure(err.message);
      const reason = (err as { code?: string }).code === 'EOPENBREAKER' ? 'circuit breaker open' : (err as Error).message;
      if (cached) {
        return { body: cached.body, contentType: cached.contentType, cache: 'stale', stale: true, ageSeconds: age(cached), staleReason: reason };
      }
      throw new ToolFailure(`upstream unavailable (${reason}) and no cached copy exists`);
    }
    await this.cache.set(key, { body: res.body, contentType: res.contentType, status: res.status, fetchedAt: now });
    return { body: res.body, contentType: res.contentType, cache: 'miss', stale: false, ageSeconds: 0 };
  }

  status(): BreakerStatus[] {
    const b = this.breaker;
    const s = b.stats;
    return [
      {
        name: CachedFetcher.BREAKER,
        state: stateOf(b),
        counters: { ...this.totals },
        window: { fires: s.fires, failures: s.failures, successes: s.successes, rejects: s.rejects },
        options: {
          errorThresholdPercentage: this.config.BREAKER_ERROR_THRESHOLD_PERCENT,
          volumeThreshold: this.config.BREAKER_VOLUME_THRESHOLD,
          rollingCountTimeout: this.config.BREAKER_ROLLING_WINDOW_MS,
          resetTimeout: this.config.BREAKER_RESET_TIMEOUT_MS,
        },
      },
    ];
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
