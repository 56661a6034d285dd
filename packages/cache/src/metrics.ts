import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import {
  ATTR,
  CACHE_ENTRIES,
  CACHE_EVICTIONS,
  CACHE_MAX_ENTRIES,
  CACHE_MAX_SIZE,
  CACHE_PUTS,
  CACHE_REQUESTS,
  CACHE_SIZE,
  contain,
  createInstrument,
  describeError,
  registerBatch,
  type BatchInstruments,
  holdWeakly,
  nameClaims,
  reportOnce,
  type MetricDefinition,
} from '@otelkit/core';
import type { CacheCounts } from './counts.js';

/** The instrumentation scope of every cache metric. */
export const CACHE_SCOPE = '@otelkit/cache';

/**
 * A number read at collection time from the bound cache; `undefined` means "not known now" and is
 * not reported. It receives the cache so the metrics callback never holds the cache strongly.
 */
export type Gauge<T = unknown> = (target: T) => number | undefined;

/**
 * What one bound cache can report. Each field left out is a number the library cannot give, and its
 * metric is not registered for this cache.
 * @internal
 */
export interface CacheSources<T extends object = object> {
  readonly name: string;
  /**
   * The bound cache, held weakly: when it is garbage-collected, the metrics callback removes itself,
   * so a cache dropped without `unbind()` does not leak. Absent for hand-written caches.
   */
  readonly target?: T;
  readonly counts: CacheCounts;
  /** Whether `counts.hits`/`counts.misses` are filled. */
  readonly requests: boolean;
  /** Whether `counts.puts` is filled. */
  readonly puts: boolean;
  /** The eviction reasons the library reports (each is reported, zero included); none: no `cache.evictions`. */
  readonly evictions: readonly string[];
  /** Runs first at each collection, e.g. to copy a library's own stats into `counts`. */
  readonly beforeCollect?: (target: T) => void;
  readonly entries?: Gauge<T>;
  readonly maxEntries?: Gauge<T>;
  readonly size?: Gauge<T>;
  readonly maxSize?: Gauge<T>;
}

/** A cache's observable instruments on one meter. */
type CacheInstruments<T> = {
  requests: Observable | undefined;
  puts: Observable | undefined;
  evictions: Observable | undefined;
  gauges: Array<[Observable, Gauge<T>, string]>;
};

/** Cache names: the one identity rule of every bridge (see `nameClaims` in @otelkit/core). */
const cacheNames = nameClaims('cache', 'name');

/**
 * Registers the cache's metrics: one batch observable callback on the `@otelkit/cache` meter, with
 * attribute objects built once here. Returns the release function that removes the callback.
 * @internal
 */
export function registerCacheMetrics<T extends object>(sources: CacheSources<T>): () => void {
  const { counts } = sources;
  // One identity per live cache: a second cache bound under a name reports as `name#2`.
  const name = cacheNames.claim(sources.name);
  // Held weakly: a cache the app drops is collected, and its callback and name go with it.
  let onCollected = (): void => {};
  const targetRef = sources.target ? holdWeakly(sources.target, () => onCollected()) : undefined;
  // Closures below must not capture `sources` (it holds the target strongly).
  const beforeCollect = sources.beforeCollect;
  const base: Attributes = Object.freeze({ [ATTR.CACHE_NAME]: name });
  const hitAttributes = Object.freeze({ ...base, [ATTR.CACHE_RESULT]: 'hit' });
  const missAttributes = Object.freeze({ ...base, [ATTR.CACHE_RESULT]: 'miss' });
  const reasonAttributes = new Map<string, Attributes>();
  const reasonAttributesOf = (reason: string): Attributes => {
    let attributes = reasonAttributes.get(reason);
    if (!attributes) {
      attributes = Object.freeze({ ...base, [ATTR.CACHE_EVICTION_REASON]: reason });
      reasonAttributes.set(reason, attributes);
    }
    return attributes;
  };

  const evictionReasons = sources.evictions;
  const { entries, maxEntries, size, maxSize } = sources;
  const wantsRequests = sources.requests === true;
  const wantsPuts = sources.puts === true;
  // The instruments on a meter (otelkit's meter of the provider in force; made again if it changes).
  // Like the callback, this closure must not capture `sources`, which holds the cache.
  const createInstruments = (meter: Meter): BatchInstruments<CacheInstruments<T>> => {
    const observables: Observable[] = [];
    const create = (definition: MetricDefinition): Observable => {
      const instrument = createInstrument(meter, definition) as unknown as Observable;
      observables.push(instrument);
      return instrument;
    };
    const gauges: Array<[Observable, Gauge<T>, string]> = [];
    if (entries) gauges.push([create(CACHE_ENTRIES), entries, CACHE_ENTRIES.name]);
    if (maxEntries) gauges.push([create(CACHE_MAX_ENTRIES), maxEntries, CACHE_MAX_ENTRIES.name]);
    if (size) gauges.push([create(CACHE_SIZE), size, CACHE_SIZE.name]);
    if (maxSize) gauges.push([create(CACHE_MAX_SIZE), maxSize, CACHE_MAX_SIZE.name]);
    return {
      instruments: {
        requests: wantsRequests ? create(CACHE_REQUESTS) : undefined,
        puts: wantsPuts ? create(CACHE_PUTS) : undefined,
        evictions: evictionReasons.length > 0 ? create(CACHE_EVICTIONS) : undefined,
        gauges,
      },
      observables,
    };
  };

  const failureKey = `@otelkit/cache "${name}" collection`;
  const callback = contain(failureKey, (result: BatchObservableResult, { requests, puts, evictions, gauges }: CacheInstruments<T>) => {
    const target = targetRef?.deref();
    // Collected: its release runs on its own (never here: removing a callback while the SDK iterates
    // them makes it skip the next one).
    if (targetRef && target === undefined) return;
    if (beforeCollect) {
      try {
        beforeCollect(target as T);
      } catch (error) {
        reportOnce(failureKey, `${failureKey} failed and was ignored: ${describeError(error)}`);
      }
    }
    if (requests) {
      result.observe(requests, counts.hits, hitAttributes);
      result.observe(requests, counts.misses, missAttributes);
    }
    if (puts) result.observe(puts, counts.puts, base);
    if (evictions) {
      for (const reason of evictionReasons) result.observe(evictions, counts.evictions(reason), reasonAttributesOf(reason));
      counts.other?.forEach((value, reason) => result.observe(evictions, value, reasonAttributesOf(reason)));
    }
    for (const [instrument, read, metricName] of gauges) {
      let value: number | undefined;
      try {
        value = read(target as T);
      } catch (error) {
        reportOnce(
          `${failureKey} ${metricName}`,
          `${failureKey}: reading ${metricName} threw and was ignored: ${describeError(error)}`,
        );
        continue;
      }
      if (typeof value === 'number' && Number.isFinite(value)) result.observe(instrument, value, base);
    }
  });

  // Follows the global MeterProvider: a cache bound before the SDK starts still reports.
  const registration = registerBatch(CACHE_SCOPE, createInstruments, callback);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    targetRef?.release();
    // The otelkit meter is guarded: nothing the SDK throws here reaches the caller.
    registration.release();
    cacheNames.release(name);
  };
  onCollected = release;
  return release;
}

/**
 * Checks the `name` option every bridge needs. Reports once and returns undefined when it is unusable.
 * @internal
 */
export function validName(bridge: string, options: unknown): string | undefined {
  const name = typeof options === 'object' && options !== null ? (options as { name?: unknown }).name : undefined;
  if (typeof name === 'string' && name.trim().length > 0) return name;
  reportOnce(
    `${bridge} name`,
    `${bridge}: options.name must be a non-empty string (the cache.name attribute); the cache is not instrumented.`,
  );
  return undefined;
}
