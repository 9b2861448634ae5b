import { hash } from 'node:crypto';
import type { Cache, CacheEntry } from './cache.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { PathBreakers, type BreakerStatus } from './breakers.js';
import { memoize } from './memo.js';
import type { Metrics } from './metrics.js';
import { UpstreamClientError, fetchUpstream, resolveUpstreamUrl, type UpstreamResponse } from './upstream.js';

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

/**
 * `cached_fetch`: Redis cache in front of an upstream call that runs inside its path's circuit
 * breaker. An entry first lives 2 x CACHE_TTL_SECONDS; only one asked for again (a hit or a
 * refresh) is kept CACHE_STALE_TTL_SECONDS longer as a stale copy, so paths that one client
 * invents and never reads again leave Redis soon instead of evicting real entries for a day.
 */
export class CachedFetcher {
  static readonly BREAKER = 'upstream';
  private readonly base: URL;
  private readonly keyPrefix: string;
  private readonly breakers: PathBreakers<UpstreamResponse>;
  private readonly freshMs: number;
  private readonly keptSeconds: number;
  /** How long a first write lives: 2 x CACHE_TTL_SECONDS, never longer than a kept entry. */
  private readonly firstWriteSeconds: number;

  constructor(
    config: Config,
    private readonly cache: Cache,
    private readonly metrics: Metrics,
    log: Logger,
  ) {
    this.base = new URL(config.UPSTREAM_URL);
    // The base URL is part of the key so that pointing a colour at another upstream never serves the old one's data.
    this.keyPrefix = `mcp:fetch:v1:${hash('sha256', this.base.href).slice(0, 16)}:`;
    this.freshMs = config.CACHE_TTL_SECONDS * 1000;
    this.keptSeconds = config.CACHE_TTL_SECONDS + config.CACHE_STALE_TTL_SECONDS;
    this.firstWriteSeconds = Math.min(2 * config.CACHE_TTL_SECONDS, this.keptSeconds);
    const userAgent = `mcp-server/${config.APP_VERSION}`;
    const call = (url: URL) => fetchUpstream(url, config.UPSTREAM_TIMEOUT_MS, config.UPSTREAM_MAX_BYTES, userAgent);
    const options = {
      errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      rollingCountTimeout: config.BREAKER_ROLLING_WINDOW_MS,
      resetTimeout: config.BREAKER_RESET_TIMEOUT_MS,
      maxPaths: config.BREAKER_MAX_PATHS,
    };
    this.breakers = new PathBreakers(CachedFetcher.BREAKER, call, options, metrics, log);
  }

  /** The URL and cache key of a path: a pure function of it, worked out once per path (a few µs a call). */
  private readonly locate = memoize((path: string) => {
    const url = resolveUpstreamUrl(this.base, path);
    return { url, key: this.keyPrefix + hash('sha256', url.pathname + url.search) };
  }, 1024);

  async fetch(path: string): Promise<FetchResult> {
    let url: URL, key: string;
    try {
      ({ url, key } = this.locate(path));
    } catch (err) {
      throw new ToolFailure(`path refused: ${(err as Error).message}`);
    }
    const cached = await this.cache.get(key);
    const now = Date.now();
    const age = (e: CacheEntry) => Math.max(0, Math.floor((now - e.fetchedAt) / 1000));
    if (cached && now - cached.fetchedAt < this.freshMs) {
      this.metrics.cacheHits.inc();
      // Asked for again: kept for outages, until the same moment as if it had been kept from the start.
      if (!cached.askedAgain) void this.cache.set(key, { ...cached, askedAgain: true }, Math.max(1, this.keptSeconds - age(cached)));
      return { body: cached.body, contentType: cached.contentType, cache: 'hit', stale: false, ageSeconds: age(cached) };
    }
    this.metrics.cacheMisses.inc();

    let res: UpstreamResponse;
    try {
      res = await this.breakers.fire(url);
    } catch (err) {
      if (err instanceof UpstreamClientError) throw new ToolFailure(err.message);
      const reason = (err as { code?: string }).code === 'EOPENBREAKER' ? 'circuit breaker open' : (err as Error).message;
      if (cached) {
        return { body: cached.body, contentType: cached.contentType, cache: 'stale', stale: true, ageSeconds: age(cached), staleReason: reason };
      }
      throw new ToolFailure(`upstream unavailable (${reason}) and no cached copy exists`);
    }
    const entry: CacheEntry = { body: res.body, contentType: res.contentType, status: res.status, fetchedAt: now };
    if (cached) await this.cache.set(key, { ...entry, askedAgain: true }, this.keptSeconds);
    else await this.cache.set(key, entry, this.firstWriteSeconds);
    return { body: res.body, contentType: res.contentType, cache: 'miss', stale: false, ageSeconds: 0 };
  }

  status(): BreakerStatus[] {
    return [this.breakers.status()];
  }

  shutdown(): void {
    this.breakers.shutdown();
  }
}
