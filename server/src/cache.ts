import { createClient } from '@redis/client';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { ElastiCacheIamAuth } from './redis-iam.js';

export interface CacheEntry {
  body: string;
  contentType: string;
  status: number;
  fetchedAt: number; // epoch ms; freshness is judged against CACHE_TTL_SECONDS, not the Redis TTL
  /** Read or refreshed since its first write, so kept as a stale copy (fetcher.ts). */
  askedAgain?: boolean;
}

export interface PingResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** How long commands skip Redis after one went unanswered; readiness pings still probe it. */
const HUNG_BYPASS_MS = 1000;

/** An IAM user signs a token per connection; an AUTH token is the default user's password. */
function credentials(config: Config, log: Logger) {
  if (config.REDIS_IAM_USER) {
    const iam = new ElastiCacheIamAuth({ cacheId: config.REDIS_IAM_CACHE_ID!, userId: config.REDIS_IAM_USER, region: config.AWS_REGION! });
    return { credentialsProvider: iam.credentialsProvider((err) => log.warn({ err: { message: err.message } }, 'redis IAM re-authentication failed')) };
  }
  return config.REDIS_AUTH_TOKEN ? { password: config.REDIS_AUTH_TOKEN } : {};
}

/**
 * Redis as a best-effort cache: every failure is counted and swallowed, so tools keep answering
 * (bypassing the cache) while Redis is down. The offline queue is off and commands have a timeout,
 * so a dead Redis costs milliseconds, not a hung request.
 */
export class Cache {
  readonly client;
  private readonly commandTimeoutMs: number;
  private up = false;
  /** performance.now() until which commands skip a Redis that stopped answering. */
  private bypassUntil = 0;

  constructor(
    config: Config,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.commandTimeoutMs = config.REDIS_COMMAND_TIMEOUT_MS;
    this.client = createClient({
      url: config.REDIS_URL,
      ...credentials(config, log),
      disableOfflineQueue: true,
      // node-redis arms an AbortSignal.timeout (5 s by default) for every command, each held with
      // its timer until it fires, long after the answer: thousands alive at a few thousand commands
      // a second, promoted into the old generation (BENCH.md). send() times commands itself.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: config.REDIS_CONNECT_TIMEOUT_MS,
        // Capped exponential backoff with jitter, forever: Redis coming back must heal the task by itself.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100),
      },
    });
    // Without an 'error' listener node-redis errors would crash the process; log only transitions to avoid floods.
    this.client.on('error', (err: Error) => {
      if (this.up) log.warn({ err: { message: err.message } }, 'redis connection lost');
      this.up = false;
    });
    this.client.on('ready', () => {
      this.up = true;
      log.info('redis ready');
    });
  }

  /** Starts connecting in the background; the server does not wait for Redis. */
  connect(): void {
    this.client.connect().catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'redis connect failed'));
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    if (!this.client.isReady) {
      this.metrics.cacheErrors.inc();
      return undefined;
    }
    try {
      const raw = await this.send<string | null>(['GET', key]);
      if (raw === null) return undefined;
      const entry = JSON.parse(raw) as CacheEntry;
      if (typeof entry.body !== 'string' || typeof entry.fetchedAt !== 'number') throw new Error('malformed cache entry');
      return entry;
    } catch (err) {
      this.metrics.cacheErrors.inc();
      this.log.debug({ err: { message: (err as Error).message } }, 'cache read failed');
      return undefined;
    }
  }

  async set(key: string, entry: CacheEntry, lifetimeSeconds: number): Promise<void> {
    if (!this.client.isReady) {
      this.metrics.cacheErrors.inc();
      return;
    }
    try {
      await this.send(['SET', key, JSON.stringify(entry), 'EX', String(Math.ceil(lifetimeSeconds))]);
    } catch (err) {
      this.metrics.cacheErrors.inc();
      this.log.debug({ err: { message: (err as Error).message } }, 'cache write failed');
    }
  }

  /**
   * One command, abandoned after REDIS_COMMAND_TIMEOUT_MS whether or not it reached the socket:
   * node-redis drops a command's abort listener once the command is written, so a hung Redis (open
   * socket, no answers) would otherwise hold every call until the request timeout. After a timeout,
   * commands skip Redis for HUNG_BYPASS_MS, so a hung node costs one timeout per window, not one
   * per call, and unanswered commands pile up in node-redis's queue only at that rate. The timer is
   * cleared when Redis answers (node-redis's own AbortSignal.timeout built a DOMException for every
   * command, which showed in the profile of a cache hit).
   */
  private async send<T>(args: string[], probe = false): Promise<T> {
    if (!probe && performance.now() < this.bypassUntil) throw new Error('redis did not answer recently; bypassed');
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        this.bypassUntil = performance.now() + HUNG_BYPASS_MS;
        reject(new Error(`no answer within ${this.commandTimeoutMs} ms`));
      }, this.commandTimeoutMs);
    });
    try {
      const answer = (await Promise.race([this.client.sendCommand(args, { abortSignal: abort.signal }), timeout])) as T;
      this.bypassUntil = 0;
      return answer;
    } finally {
      clearTimeout(timer);
    }
  }

  async ping(timeoutMs: number): Promise<PingResult> {
    const start = performance.now();
    const elapsed = () => Math.round((performance.now() - start) * 100) / 100;
    if (!this.client.isReady) return { ok: false, latencyMs: 0, error: 'not connected' };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.send(['PING'], true),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ok: true, latencyMs: elapsed() };
    } catch (err) {
      return { ok: false, latencyMs: elapsed(), error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    if (!this.client.isReady) {
      this.client.destroy();
      return;
    }
    try {
      await Promise.race([this.client.close(), new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 1000).unref())]);
    } catch {
      this.client.destroy();
    }
  }
}
