import { contain, createHandle, noopHandle, noteNewBinding, reportOnce, reuseBinding, type BridgeHandle } from '@otelkit/core';
import { CacheCounts } from './counts.js';
import { registerCacheMetrics, validName } from './metrics.js';

/** node-cache's statistics object (`getStats()`): cumulative until `flushStats()`/`flushAll()` replace it. */
interface NodeCacheStats {
  hits: number;
  misses: number;
  keys: number;
  ksize: number;
  vsize: number;
}

/** The part of a node-cache 5 instance the bridge uses. */
export interface NodeCacheLike {
  getStats(): NodeCacheStats;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly options?: { maxKeys?: number; deleteOnExpire?: boolean };
}

/** Options of {@link instrumentNodeCache}. */
export interface NodeCacheBridgeOptions {
  /** The `cache.name` attribute; unique per cache. */
  name: string;
}

const handles = new WeakMap<object, BridgeHandle>();

// Gauges live at module level so the metrics callback never shares a closure context with the cache.
const nodeCacheKeys = (cache: NodeCacheLike): number => cache.getStats().keys;
const nodeCacheSize = (cache: NodeCacheLike): number => {
  const { ksize, vsize } = cache.getStats();
  return ksize + vsize;
};
const nodeCacheMaxKeys = (cache: NodeCacheLike): number | undefined => cache.options?.maxKeys;

/**
 * Copies node-cache's hit/miss counters into `counts` at each collection, from the values seen at
 * bind time. node-cache replaces its stats object on `flushStats()`/`flushAll()`; the old object
 * keeps its final values, so nothing counted before a reset is lost.
 */
function statsSync(counts: CacheCounts, initial: NodeCacheStats): (cache: NodeCacheLike) => void {
  let stats = initial;
  let seenHits = initial.hits;
  let seenMisses = initial.misses;
  return (cache) => {
    const current = cache.getStats();
    if (current !== stats) {
      counts.hits += Math.max(0, stats.hits - seenHits);
      counts.misses += Math.max(0, stats.misses - seenMisses);
      stats = current;
      seenHits = 0;
      seenMisses = 0;
    }
    counts.hits += Math.max(0, current.hits - seenHits);
    counts.misses += Math.max(0, current.misses - seenMisses);
    seenHits = current.hits;
    seenMisses = current.misses;
  };
}

function isNodeCache(value: unknown): value is NodeCacheLike {
  if (typeof value !== 'object' || value === null) return false;
  const cache = value as Record<string, unknown>;
  if (typeof cache.getStats !== 'function' || typeof cache.on !== 'function' || typeof cache.removeListener !== 'function')
    return false;
  const stats = (cache.getStats as () => unknown)();
  return typeof stats === 'object' && stats !== null && typeof (stats as NodeCacheStats).hits === 'number';
}

/**
 * Instruments a node-cache 5 instance. Hits and misses come from node-cache's own `getStats()`
 * counters, read at collection time (nothing is added to `get`); a `flushStats()`/`flushAll()` reset
 * is carried over so `cache.requests` stays monotonic. `cache.puts` counts `set` events,
 * `cache.evictions` counts `del` events as `delete` and `expired` events as `expire`; `cache.entries`
 * is `keys`, `cache.size` is node-cache's approximate `ksize + vsize`, `cache.max_entries` is
 * `maxKeys` when set. Binding the same cache twice returns the first handle (a zero-code binding is replaced instead).
 *
 * @example
 * const sessions = new NodeCache({ stdTTL: 600 });
 * const handle = instrumentNodeCache(sessions, { name: 'sessions' });
 */
export function instrumentNodeCache(cache: NodeCacheLike, options: NodeCacheBridgeOptions): BridgeHandle {
  let valid = false;
  try {
    valid = isNodeCache(cache);
  } catch {
    valid = false;
  }
  if (!valid) {
    reportOnce(
      'instrumentNodeCache target',
      'instrumentNodeCache: the target is not a node-cache instance (getStats, on, removeListener); it is not instrumented.',
    );
    return noopHandle();
  }
  const name = validName('instrumentNodeCache', options);
  if (name === undefined) return noopHandle();
  // Core's bind-once rule: an explicit call replaces a zero-code binding (e.g. to name the cache).
  const existing = reuseBinding(handles.get(cache), () => true);
  if (existing) return existing;

  const counts = new CacheCounts();
  const syncStats = statsSync(counts, cache.getStats());

  const deletesOnExpire = cache.options?.deleteOnExpire !== false;
  const onSet = contain('instrumentNodeCache set listener', () => {
    counts.puts++;
  });
  const onDel = contain('instrumentNodeCache del listener', () => {
    counts.delete++;
  });
  const onExpired = contain('instrumentNodeCache expired listener', () => {
    counts.expire++;
    // With deleteOnExpire (the default), node-cache emits `del` just before `expired` for the same key.
    if (deletesOnExpire && counts.delete > 0) counts.delete--;
  });
  const listeners: Array<[string, () => void]> = [
    ['set', onSet],
    ['del', onDel],
    ['expired', onExpired],
  ];
  for (const [event, listener] of listeners) cache.on(event, listener);

  const maxKeys = cache.options?.maxKeys;
  const releaseMetrics = registerCacheMetrics<NodeCacheLike>({
    name,
    target: cache,
    counts,
    requests: true,
    puts: true,
    evictions: ['delete', 'expire'],
    beforeCollect: syncStats,
    entries: nodeCacheKeys,
    size: nodeCacheSize,
    ...(typeof maxKeys === 'number' && maxKeys > 0 ? { maxEntries: nodeCacheMaxKeys } : {}),
  });

  const handle = createHandle(() => {
    for (const [event, listener] of listeners) cache.removeListener(event, listener);
    releaseMetrics();
    if (handles.get(cache) === handle) handles.delete(cache);
  });
  handles.set(cache, noteNewBinding(handle));
  return handle;
}
