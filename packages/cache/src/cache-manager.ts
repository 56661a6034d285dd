import { contain, createHandle, describeError, noopHandle, noteNewBinding, reportOnce, reuseBinding, shadowMethod, type BridgeHandle } from '@otelkit/core';
import { CacheCounts } from './counts.js';
import { registerCacheMetrics, validName } from './metrics.js';

type Listener = (...args: unknown[]) => void;

/** The part of a cache-manager 7 cache (`createCache()`) the bridge uses. */
export interface CacheManagerLike {
  get(key: string): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** Options of {@link instrumentCacheManager}. */
export interface CacheManagerBridgeOptions {
  /** The `cache.name` attribute; unique per cache. */
  name: string;
}

const handles = new WeakMap<object, BridgeHandle>();

function isCacheManager(value: unknown): value is CacheManagerLike {
  if (typeof value !== 'object' || value === null) return false;
  const cache = value as Record<string, unknown>;
  return (
    typeof cache.get === 'function' &&
    typeof cache.on === 'function' &&
    typeof cache.off === 'function' &&
    typeof cache.wrap === 'function' &&
    typeof cache.mget === 'function'
  );
}

const ignore = (): void => {};

/**
 * Instruments a cache-manager 7 cache. cache-manager emits `get` only for hits, so `get` is counted
 * by an own-property wrapper that returns the very promise the original returned (a hit when it
 * resolves to a value, a miss when it resolves to `undefined`; a rejection is not counted and stays
 * the caller's). Its events give the rest: `mget` (each key), `set` (one per call, without the
 * per-store repeats), `del`/`mdel` (evictions with reason `delete`). `wrap()` reads the stores
 * directly and reports nothing, so its lookups are not counted. Binding twice returns the first handle (a zero-code binding is replaced instead).
 *
 * @example
 * const cache = createCache({ ttl: 60_000 });
 * const handle = instrumentCacheManager(cache, { name: 'pages' });
 */
export function instrumentCacheManager(cache: CacheManagerLike, options: CacheManagerBridgeOptions): BridgeHandle {
  if (!isCacheManager(cache)) {
    reportOnce(
      'instrumentCacheManager target',
      'instrumentCacheManager: the target is not a cache-manager 7 cache (get, mget, wrap, on, off); it is not instrumented.',
    );
    return noopHandle();
  }
  const name = validName('instrumentCacheManager', options);
  if (name === undefined) return noopHandle();
  // Core's bind-once rule: an explicit call replaces a zero-code binding (e.g. to name the cache).
  const existing = reuseBinding(handles.get(cache), () => true);
  if (existing) return existing;

  const counts = new CacheCounts();
  const countResult = (value: unknown): void => {
    if (value === undefined) counts.misses++;
    else counts.hits++;
  };
  const originalGet = cache.get;
  const get = function (this: unknown, ...args: unknown[]): unknown {
    const result: unknown = (originalGet as (...a: unknown[]) => unknown).apply(this, args);
    // A side branch on the same promise: the caller still gets (and handles) the original one.
    if (result instanceof Promise) result.then(countResult, ignore);
    return result;
  };

  const listeners: Array<[string, (data: never) => void]> = [
    [
      'mget',
      contain('instrumentCacheManager mget listener', (data: { values?: unknown; error?: unknown }) => {
        if (data?.error === undefined && Array.isArray(data?.values)) for (const value of data.values) countResult(value);
      }),
    ],
    [
      'set',
      contain('instrumentCacheManager set listener', (data: { store?: unknown; error?: unknown }) => {
        // Each store also emits its own `set` (with `store`); the call as a whole emits one without it.
        if (data?.store === undefined && data?.error === undefined) counts.puts++;
      }),
    ],
    [
      'mset',
      contain('instrumentCacheManager mset listener', (data: { list?: unknown; error?: unknown }) => {
        if (data?.error === undefined && Array.isArray(data?.list)) counts.puts += data.list.length;
      }),
    ],
    [
      'del',
      contain('instrumentCacheManager del listener', (data: { error?: unknown }) => {
        if (data?.error === undefined) counts.delete++;
      }),
    ],
    [
      'mdel',
      contain('instrumentCacheManager mdel listener', (data: { keys?: unknown; error?: unknown }) => {
        if (data?.error === undefined && Array.isArray(data?.keys)) counts.delete += data.keys.length;
      }),
    ],
  ];
  // Shadow `get` first: on a cache that cannot take own properties (frozen) nothing else is done.
  let restoreGet: () => void;
  try {
    restoreGet = shadowMethod(cache, 'get', () => get, { keepEnumerable: true });
  } catch (error) {
    reportOnce('instrumentCacheManager frozen', `instrumentCacheManager: the cache's get cannot be wrapped (frozen?); it is not instrumented: ${describeError(error)}`);
    return noopHandle();
  }
  for (const [event, listener] of listeners) cache.on(event, listener as Listener);
  const releaseMetrics = registerCacheMetrics({ name, target: cache, counts, requests: true, puts: true, evictions: ['delete'] });

  const handle = createHandle(() => {
    for (const [event, listener] of listeners) cache.off(event, listener as Listener);
    restoreGet();
    releaseMetrics();
    if (handles.get(cache) === handle) handles.delete(cache);
  });
  handles.set(cache, noteNewBinding(handle));
  return handle;
}
