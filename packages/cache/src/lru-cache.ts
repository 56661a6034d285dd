import { createHandle, describeError, noopHandle, noteNewBinding, reportOnce, reuseBinding, shadowMethod, type BridgeHandle } from '@otelkit/core';
import { CacheCounts, KNOWN_EVICTION_REASONS } from './counts.js';
import { registerCacheMetrics, validName } from './metrics.js';

/**
 * The part of an lru-cache 10 or 11 instance the bridge uses. Structural, because lru-cache keeps
 * its state in `#private` fields, which make the two majors' class types incompatible in TypeScript.
 */
export interface LruCacheLike {
  get(key: never, options?: never): unknown;
  set(key: never, value: never, options?: never): unknown;
  readonly size: number;
  readonly max: number;
  readonly maxSize: number;
  readonly calculatedSize: number;
  readonly dispose?: unknown;
  readonly sizeCalculation?: unknown;
}

/** Options of {@link instrumentLruCache}. */
export interface LruCacheBridgeOptions {
  /** The `cache.name` attribute; unique per cache. */
  name: string;
}

type DisposeFunction = (this: unknown, value: unknown, key: unknown, reason: unknown) => void;

/** Counts of the bound caches whose `dispose` we installed, by cache instance. */
const evictionCounts = new WeakMap<object, CacheCounts>();
/** The `dispose` functions made by {@link trackLruCacheEvictions}. */
const trackedDisposers = new WeakSet<DisposeFunction>();
const handles = new WeakMap<object, BridgeHandle>();

/**
 * Returns a copy of lru-cache constructor options whose `dispose` also counts removals for
 * `cache.evictions`, chaining to the `dispose` you gave (same arguments, same `this`, its exceptions
 * untouched). lru-cache stores `dispose` in a `#private` field at construction, so evictions can only
 * be seen for caches built with these options (the zero-code mode does this for you).
 * Other arguments are returned unchanged.
 *
 * @example
 * const cache = new LRUCache(trackLruCacheEvictions({ max: 500, ttl: 60_000 }));
 * instrumentLruCache(cache, { name: 'users' });
 */
export function trackLruCacheEvictions<O>(options: O): O {
  if (typeof options !== 'object' || options === null) return options;
  const userDispose = (options as { dispose?: unknown }).dispose;
  if (userDispose !== undefined && typeof userDispose !== 'function') return options;
  if (trackedDisposers.has(userDispose as DisposeFunction)) return options;
  const user = userDispose as DisposeFunction | undefined;
  // lru-cache calls `this.#dispose(value, key, reason)`, so `this` is the cache: one lookup, no closure per cache.
  const dispose: DisposeFunction = function (this: unknown, value, key, reason) {
    const counts = evictionCounts.get(this as object);
    if (counts !== undefined) counts.recordEviction(reason);
    if (user !== undefined) return user.call(this, value, key, reason);
  };
  trackedDisposers.add(dispose);
  // A child of the options, not a copy: inherited and getter options (a class instance, say) still
  // reach lru-cache, as they would without us.
  return Object.assign(Object.create(options as object) as object, { dispose }) as O;
}

function isLruCache(value: unknown): value is LruCacheLike {
  if (typeof value !== 'object' || value === null) return false;
  const cache = value as Record<string, unknown>;
  return (
    typeof cache.get === 'function' &&
    typeof cache.set === 'function' &&
    typeof cache.size === 'number' &&
    typeof cache.max === 'number' &&
    'calculatedSize' in cache
  );
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

// Gauges live at module level so the metrics callback never shares a closure context with the cache.
const lruEntries = (cache: LruCacheLike): number => cache.size;
const lruMax = (cache: LruCacheLike): number => cache.max;
const lruCalculatedSize = (cache: LruCacheLike): number => cache.calculatedSize;
const lruMaxSize = (cache: LruCacheLike): number => cache.maxSize;


/**
 * Instruments an lru-cache 10 or 11 instance: `cache.requests` (hit = `get` returned a value,
 * including a stale one under `allowStale`; miss = it returned `undefined`), `cache.puts` (`set` with a
 * value), `cache.entries` (`size`), `cache.max_entries` (`max`, when set), `cache.size` and
 * `cache.max_size` (`calculatedSize`/`maxSize`, when sizes are tracked), and `cache.evictions` by
 * lru-cache's dispose reason when the cache was built with {@link trackLruCacheEvictions}.
 *
 * `get` and `set` are counted by own-property wrappers on this instance that call the original
 * methods with the same arguments and return their results; `unbind()` deletes them again.
 * Binding the same cache twice returns the first handle (a zero-code binding is replaced instead).
 *
 * @example
 * const users = new LRUCache<string, User>(trackLruCacheEvictions({ max: 1000 }));
 * const handle = instrumentLruCache(users, { name: 'users' });
 */
export function instrumentLruCache(cache: LruCacheLike, options: LruCacheBridgeOptions): BridgeHandle {
  if (!isLruCache(cache)) {
    reportOnce(
      'instrumentLruCache target',
      'instrumentLruCache: the target is not an lru-cache 10/11 instance (get, set, size, max, calculatedSize); it is not instrumented.',
    );
    return noopHandle();
  }
  const name = validName('instrumentLruCache', options);
  if (name === undefined) return noopHandle();
  // Core's bind-once rule: an explicit call replaces a zero-code binding (e.g. to name the cache).
  const existing = reuseBinding(handles.get(cache), () => true);
  if (existing) return existing;

  const counts = new CacheCounts();
  const originalGet = cache.get as unknown as Method;
  const originalSet = cache.set as unknown as Method;
  const get = function (this: unknown, key: unknown, getOptions: unknown): unknown {
    const value = originalGet.call(this, key, getOptions);
    if (value === undefined) counts.misses++;
    else counts.hits++;
    return value;
  };
  const set = function (this: unknown, key: unknown, value: unknown, setOptions: unknown): unknown {
    const result = originalSet.call(this, key, value, setOptions);
    if (value !== undefined) counts.puts++;
    return result;
  };

  // Shadow first: on a cache that cannot take own properties (frozen) nothing else is done.
  let restoreGet: () => void;
  let restoreSet: () => void;
  try {
    restoreGet = shadowMethod<Method>(cache, 'get', () => get as Method);
    try {
      restoreSet = shadowMethod<Method>(cache, 'set', () => set as Method);
    } catch (error) {
      restoreGet();
      throw error;
    }
  } catch (error) {
    reportOnce('instrumentLruCache frozen', `instrumentLruCache: the cache's get/set cannot be wrapped (frozen?); it is not instrumented: ${describeError(error)}`);
    return noopHandle();
  }
  const tracksEvictions = trackedDisposers.has(cache.dispose as DisposeFunction);
  const tracksSize = cache.maxSize > 0 || typeof cache.sizeCalculation === 'function';
  const releaseMetrics = registerCacheMetrics<LruCacheLike>({
    name,
    target: cache,
    counts,
    requests: true,
    puts: true,
    evictions: tracksEvictions ? KNOWN_EVICTION_REASONS : [],
    entries: lruEntries,
    ...(cache.max > 0 ? { maxEntries: lruMax } : {}),
    ...(tracksSize ? { size: lruCalculatedSize } : {}),
    ...(cache.maxSize > 0 ? { maxSize: lruMaxSize } : {}),
  });
  if (tracksEvictions) evictionCounts.set(cache, counts);

  const handle = createHandle(() => {
    if (evictionCounts.get(cache) === counts) evictionCounts.delete(cache);
    // Restore in reverse order of installation, so V8 can roll the instance back to its original shape.
    restoreSet();
    restoreGet();
    releaseMetrics();
    if (handles.get(cache) === handle) handles.delete(cache);
  });
  handles.set(cache, noteNewBinding(handle));
  return handle;
}
