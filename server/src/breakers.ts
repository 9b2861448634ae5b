import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Logger } from './logger.js';
import { BREAKER_STATE_VALUE, type BreakerStateName, type Metrics } from './metrics.js';
import { UpstreamClientError, UpstreamTimeout } from './upstream.js';

export interface BreakerOptions {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  rollingCountTimeout: number;
  resetTimeout: number;
  /** Most breakers held at once; past it the least recently used closed one goes first. */
  maxPaths: number;
}

export interface BreakerStatus {
  name: string;
  /** The worst state of any path's breaker. */
  state: BreakerStateName;
  counters: { successes: number; failures: number; rejections: number; timeouts: number; clientErrors: number };
  paths: { tracked: number; open: number; halfOpen: number; max: number };
  options: Omit<BreakerOptions, 'maxPaths'>;
}

interface Entry {
  breaker: CircuitBreaker<[URL], unknown>;
  state: BreakerStateName;
  /** A call came (and was refused) since it last opened. */
  askedWhileOpen: boolean;
}

const BUCKETS = 10;

/**
 * One opossum breaker per upstream path, so that a path that fails (or that a client makes fail)
 * opens only its own breaker and every other path keeps its calls. The breakers are bounded: at
 * `maxPaths`, the least recently used closed breaker is dropped (an open one only when none is
 * closed), so a client inventing paths cannot grow memory or push out an open breaker. The
 * metrics stay one series per label: counters sum every path, the state gauge shows the worst.
 *
 * An answer without content (3xx, 4xx, too large: an UpstreamClientError) shows the upstream
 * alive on that path, so opossum's window counts it as a success of that path's breaker only;
 * the counters report it apart, as neither a success nor a failure.
 */
export class PathBreakers<R> {
  private readonly byPath = new Map<string, Entry>();
  private readonly totals = { successes: 0, failures: 0, rejections: 0, timeouts: 0, clientErrors: 0 };
  private readonly count = { open: 0, 'half-open': 0 };
  private worst: BreakerStateName = 'closed';
  /** One bucket clock for every breaker, instead of an interval timer each. */
  private readonly rotation = new EventEmitter();
  private readonly clock: NodeJS.Timeout;
  private readonly label: { breaker: string };

  constructor(
    readonly name: string,
    private readonly action: (url: URL) => Promise<R>,
    private readonly options: BreakerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.rotation.setMaxListeners(0);
    this.clock = setInterval(() => this.rotation.emit('rotate'), Math.floor(options.rollingCountTimeout / BUCKETS)).unref();
    this.label = { breaker: name };
    metrics.breakerState.set(this.label, 0);
    // Touch the counters so the series exist (at 0) before the first event: alarms need a baseline.
    for (const c of [metrics.breakerSuccesses, metrics.breakerFailures, metrics.breakerRejections, metrics.breakerTimeouts, metrics.breakerClientErrors]) {
      c.inc(this.label, 0);
    }
  }

  /** Calls the upstream for `url` through the breaker of its path. */
  fire(url: URL): Promise<R> {
    return this.entryFor(url.pathname).breaker.fire(url) as Promise<R>;
  }

  status(): BreakerStatus {
    const { maxPaths, ...options } = this.options;
    return {
      name: this.name,
      state: this.worst,
      counters: { ...this.totals },
      paths: { tracked: this.byPath.size, open: this.count.open, halfOpen: this.count['half-open'], max: maxPaths },
      options,
    };
  }

  shutdown(): void {
    clearInterval(this.clock);
    for (const { breaker } of this.byPath.values()) breaker.shutdown();
    this.byPath.clear();
  }

  private entryFor(path: string): Entry {
    let entry = this.byPath.get(path);
    if (entry) {
      // Map order is recency order: move it to the end.
      this.byPath.delete(path);
      this.byPath.set(path, entry);
      return entry;
    }
    if (this.byPath.size >= this.options.maxPaths) this.evictOne();
    entry = this.create(path);
    this.byPath.set(path, entry);
    return entry;
  }

  private evictOne(): void {
    let victim: [string, Entry] | undefined;
    for (const candidate of this.byPath) {
      victim ??= candidate;
      if (candidate[1].state === 'closed') {
        victim = candidate;
        break;
      }
    }
    if (victim) this.forget(...victim);
  }

  private forget(path: string, entry: Entry): void {
    this.byPath.delete(path);
    entry.breaker.shutdown();
    this.setState(path, entry, 'closed');
  }

  /** A closed breaker for `path`. Its handlers hold their entry: a forgotten breaker is shut down, which removes them. */
  private create(path: string): Entry {
    const o = this.options;
    const breaker = new CircuitBreaker(this.action, {
      name: `${this.name}:${path}`,
      // The action aborts its own request on timeout, which opossum's timer would not; so opossum
      // never sees a timeout, and the 'failure' handler counts them.
      timeout: false,
      errorThresholdPercentage: o.errorThresholdPercentage,
      volumeThreshold: o.volumeThreshold,
      rollingCountTimeout: o.rollingCountTimeout,
      rollingCountBuckets: BUCKETS,
      rotateBucketController: this.rotation,
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
      resetTimeout: o.resetTimeout,
      errorFilter: (err: unknown) => err instanceof UpstreamClientError,
    });
    const m = this.metrics;
    const entry: Entry = { breaker, state: 'closed', askedWhileOpen: false };
    breaker.on('open', () => {
      entry.askedWhileOpen = false;
      this.setState(path, entry, 'open');
    });
    // Half-open waits for a trial call to close or reopen it. A path nobody asked for while it was
    // open may never get one, and would hold the state gauge at half-open: forget it instead.
    breaker.on('halfOpen', () => {
      if (entry.askedWhileOpen) this.setState(path, entry, 'half-open');
      else this.forget(path, entry);
    });
    breaker.on('close', () => this.setState(path, entry, 'closed'));
    breaker.on('success', (result: unknown) => {
      if (result instanceof UpstreamClientError) {
        this.totals.clientErrors++;
        m.breakerClientErrors.inc(this.label);
        return;
      }
      this.totals.successes++;
      m.breakerSuccesses.inc(this.label);
    });
    breaker.on('failure', (err: unknown) => {
      this.totals.failures++;
      m.breakerFailures.inc(this.label);
      if (!(err instanceof UpstreamTimeout)) return;
      this.totals.timeouts++;
      m.breakerTimeouts.inc(this.label);
    });
    breaker.on('reject', () => {
      entry.askedWhileOpen = true;
      this.totals.rejections++;
      m.breakerRejections.inc(this.label);
    });
    return entry;
  }

  private setState(path: string, entry: Entry, state: BreakerStateName): void {
    if (entry.state === state) return;
    if (entry.state !== 'closed') this.count[entry.state]--;
    if (state !== 'closed') this.count[state]++;
    entry.state = state;
    const worst = this.count.open > 0 ? 'open' : this.count['half-open'] > 0 ? 'half-open' : 'closed';
    if (worst === this.worst) return;
    this.worst = worst;
    this.metrics.breakerState.set(this.label, BREAKER_STATE_VALUE[worst]);
    // Logged when the worst state changes, not per path: a client opening many paths cannot flood the log.
    this.log.warn({ breaker: this.name, state: worst, path }, 'circuit breaker state changed');
  }
}
