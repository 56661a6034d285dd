import { ATTR } from './attributes.js';
import type { MetricDefinition } from './types.js';

/*
 * Cache metrics: otelkit's own names. No OpenTelemetry semantic convention exists for caches yet
 * (semantic-conventions #1747 is open), so the shape follows Micrometer's CacheMeterBinder
 * (`cache.gets{result}`, `cache.puts`, `cache.evictions`, `cache.size`) in OpenTelemetry spelling:
 * a `requests` counter split by `cache.result`, plural counters with `{annotation}` units, and
 * `cache.entries` for the entry count so that `cache.size` can carry bytes, as in `process.memory.usage`.
 * Every data point carries `cache.name`.
 */

/** `cache.requests`: lookups by `cache.result` (`hit` | `miss`). Hit ratio = hits / all requests. */
export const CACHE_REQUESTS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'cache.requests',
  kind: 'observable-counter',
  unit: '{request}',
  description: 'Number of cache lookups, by result (hit or miss).',
  attributes: [ATTR.CACHE_NAME, ATTR.CACHE_RESULT],
  stability: 'otelkit',
});

/** `cache.puts`: entries written (added or replaced). */
export const CACHE_PUTS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'cache.puts',
  kind: 'observable-counter',
  unit: '{put}',
  description: 'Number of entries written to the cache, added or replaced.',
  attributes: [ATTR.CACHE_NAME],
  stability: 'otelkit',
});

/**
 * `cache.evictions`: entries removed, by `cache.eviction.reason` as the library reports it:
 * `evict` (capacity), `expire` (TTL), `delete` (explicit), `set` (value replaced).
 */
export const CACHE_EVICTIONS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'cache.evictions',
  kind: 'observable-counter',
  unit: '{eviction}',
  description: 'Number of entries removed from the cache, by reason (evict, expire, delete, set).',
  attributes: [ATTR.CACHE_NAME, ATTR.CACHE_EVICTION_REASON],
  stability: 'otelkit',
});

/** `cache.entries`: entries held now. */
export const CACHE_ENTRIES: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'cache.entries',
  kind: 'observable-gauge',
  unit: '{entry}',
  description: 'Number of entries currently held by the cache.',
  attributes: [ATTR.CACHE_NAME],
  stability: 'otelkit',
  acrossProcesses: 'sum',
});

/** `cache.max_entries`: the entry limit, where the cache has one. */
export const CACHE_MAX_ENTRIES: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'cache.max_entries',
  kind: 'observable-gauge',
  unit: '{entry}',
  description: 'Maximum number of entries the cache holds before it evicts.',
  attributes: [ATTR.CACHE_NAME],
  stability: 'otelkit',
  acrossProcesses: 'sum',
});

/**
 * `cache.size`: the calculated size of the entries, where the library computes one (lru-cache
 * `calculatedSize`, node-cache `ksize + vsize`). Bytes as far as the library's calculation is bytes.
 */
export const CACHE_SIZE: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'cache.size',
  kind: 'observable-gauge',
  unit: 'By',
  description: 'Calculated size of the cache entries, as the cache library computes it.',
  attributes: [ATTR.CACHE_NAME],
  stability: 'otelkit',
  acrossProcesses: 'sum',
});

/** `cache.max_size`: the size limit (lru-cache `maxSize`), where the cache has one. */
export const CACHE_MAX_SIZE: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'cache.max_size',
  kind: 'observable-gauge',
  unit: 'By',
  description: 'Maximum calculated size of the cache entries before the cache evicts.',
  attributes: [ATTR.CACHE_NAME],
  stability: 'otelkit',
  acrossProcesses: 'sum',
});
