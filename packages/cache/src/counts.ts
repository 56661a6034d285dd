/**
 * Why a cache removed an entry, as the libraries report it: `evict` (capacity), `expire` (TTL),
 * `delete` (explicit delete or clear), `set` (value replaced). Other strings are kept as given.
 */
export type CacheEvictionReason = 'evict' | 'expire' | 'delete' | 'set' | (string & {});

/** The reasons every bridge that sees evictions reports, zeros included, so `rate()` works from the start. */
export const KNOWN_EVICTION_REASONS = ['evict', 'expire', 'delete', 'set'] as const;

/** Distinct unknown reasons kept before the rest are folded into `other`, to bound cardinality. */
const MAX_OTHER_REASONS = 8;

/**
 * Plain-number counters a bridge increments on the hot path. They are read at collection time by
 * the cache's batch observable callback; nothing here allocates or hashes on a `get`.
 * @internal
 */
export class CacheCounts {
  hits = 0;
  misses = 0;
  puts = 0;
  evict = 0;
  expire = 0;
  delete = 0;
  set = 0;
  other: Map<string, number> | undefined = undefined;

  /** The count for one reason. */
  evictions(reason: string): number {
    switch (reason) {
      case 'evict':
        return this.evict;
      case 'expire':
        return this.expire;
      case 'delete':
        return this.delete;
      case 'set':
        return this.set;
      default:
        return this.other?.get(reason) ?? 0;
    }
  }

  /** Counts one removal; never throws. */
  recordEviction(reason: unknown, count = 1): void {
    switch (reason) {
      case 'evict':
        this.evict += count;
        return;
      case 'expire':
        this.expire += count;
        return;
      case 'delete':
        this.delete += count;
        return;
      case 'set':
        this.set += count;
        return;
    }
    const other = (this.other ??= new Map());
    let key = typeof reason === 'string' && reason.length > 0 ? reason : 'other';
    if (!other.has(key) && other.size >= MAX_OTHER_REASONS) key = 'other';
    other.set(key, (other.get(key) ?? 0) + count);
  }
}
