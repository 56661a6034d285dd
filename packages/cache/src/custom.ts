import { createHandle, reportOnce, type BridgeHandle } from '@otelkit/core';
import { CacheCounts, KNOWN_EVICTION_REASONS, type CacheEvictionReason } from './counts.js';
import { registerCacheMetrics, validName, type Gauge } from './metrics.js';

/** Options of {@link createCacheRecorder}. */
export interface CacheRecorderOptions {
  /** The `cache.name` attribute; unique per cache. */
  name: string;
  /** Entries held now, read at collection time (`cache.entries`). */
  entries?: () => number;
  /** Entry limit, read at collection time (`cache.max_entries`). */
  maxEntries?: () => number;
  /** Calculated size in bytes, read at collection time (`cache.size`). */
  size?: () => number;
  /** Size limit in bytes, read at collection time (`cache.max_size`). */
  maxSize?: () => number;
}

/**
 * A recorder for a hand-written cache. Each `record*` call is a plain number increment (no attribute
 * lookup), reported through observable counters at collection time. After `unbind()` the calls
 * still work and count nothing that is reported.
 */
export interface CacheRecorder extends BridgeHandle {
  /** Counts one lookup that found its entry. */
  recordHit(): void;
  /** Counts one lookup that did not find its entry. */
  recordMiss(): void;
  /** Counts one entry written (added or replaced). */
  recordPut(): void;
  /** Counts one entry removed, by reason (`evict`, `expire`, `delete`, `set`, or your own string). */
  recordEviction(reason: CacheEvictionReason): void;
}

const noop = (): void => {};

function noopRecorder(): CacheRecorder {
  return {
    bound: false,
    unbind: noop,
    [Symbol.dispose]: noop,
    recordHit: noop,
    recordMiss: noop,
    recordPut: noop,
    recordEviction: noop,
  };
}

function optionalGauge(options: CacheRecorderOptions, key: 'entries' | 'maxEntries' | 'size' | 'maxSize'): Gauge | undefined {
  const read = options[key];
  if (read === undefined) return undefined;
  if (typeof read === 'function') return read;
  reportOnce(`createCacheRecorder ${key}`, `createCacheRecorder: options.${key} must be a function; it is ignored.`);
  return undefined;
}

/**
 * Instruments a hand-written cache: returns a recorder whose `recordHit()`, `recordMiss()`,
 * `recordPut()` and `recordEviction(reason)` feed `cache.requests`, `cache.puts` and
 * `cache.evictions`, and whose optional callbacks feed the gauges. Bad options give one diagnostic and
 * a recorder that records nothing.
 *
 * @example
 * const recorder = createCacheRecorder({ name: 'sessions', entries: () => sessions.size });
 * const hit = sessions.get(id);
 * if (hit) recorder.recordHit(); else recorder.recordMiss();
 */
export function createCacheRecorder(options: CacheRecorderOptions): CacheRecorder {
  const name = validName('createCacheRecorder', options);
  if (name === undefined) return noopRecorder();
  const counts = new CacheCounts();
  const entries = optionalGauge(options, 'entries');
  const maxEntries = optionalGauge(options, 'maxEntries');
  const size = optionalGauge(options, 'size');
  const maxSize = optionalGauge(options, 'maxSize');
  const release = registerCacheMetrics({
    name,
    counts,
    requests: true,
    puts: true,
    evictions: KNOWN_EVICTION_REASONS,
    ...(entries ? { entries } : {}),
    ...(maxEntries ? { maxEntries } : {}),
    ...(size ? { size } : {}),
    ...(maxSize ? { maxSize } : {}),
  });
  const handle = createHandle(release);
  return {
    get bound() {
      return handle.bound;
    },
    unbind: handle.unbind,
    [Symbol.dispose]: handle.unbind,
    recordHit() {
      counts.hits++;
    },
    recordMiss() {
      counts.misses++;
    },
    recordPut() {
      counts.puts++;
    },
    recordEviction(reason) {
      counts.recordEviction(reason);
    },
  };
}
