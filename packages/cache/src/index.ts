/**
 * @otelkit/cache: cache metrics (`cache.requests` by hit/miss, `cache.puts`, `cache.evictions` by
 * reason, `cache.entries`, `cache.size`, limits) for lru-cache, node-cache, keyv, cache-manager and
 * hand-written caches, counted in plain numbers and reported at collection time.
 * @packageDocumentation
 */
export type { CacheEvictionReason } from './counts.js';
export {
  createCacheRecorder,
  type CacheRecorder,
  type CacheRecorderOptions,
} from './custom.js';
export {
  instrumentLruCache,
  trackLruCacheEvictions,
  type LruCacheBridgeOptions,
  type LruCacheLike,
} from './lru-cache.js';
export {
  instrumentNodeCache,
  type NodeCacheBridgeOptions,
  type NodeCacheLike,
} from './node-cache.js';
export { instrumentKeyv, type KeyvBridgeOptions, type KeyvLike } from './keyv.js';
export {
  instrumentCacheManager,
  type CacheManagerBridgeOptions,
  type CacheManagerLike,
} from './cache-manager.js';
export { cacheModuleBridges } from './module-bridges.js';
