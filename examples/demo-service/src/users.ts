import { instrumentLruCache, trackLruCacheEvictions } from '@otelkit/cache';
import { LRUCache } from 'lru-cache';

/** A user as the demo's "database" returns it. */
export interface User {
  id: number;
  name: string;
  loadedAt: string;
}

/**
 * A slow user lookup behind an lru-cache, so `/metrics` shows `cache_requests_total` and a hit ratio.
 * Under the preload the cache would be bridged anyway (named by its creation site); the explicit call
 * names it `users`. `trackLruCacheEvictions` lets the bridge see evictions by reason.
 */
export function createUserStore(): { find(id: number): Promise<User> } {
  const users = new LRUCache<number, User>(trackLruCacheEvictions({ max: 50, ttl: 30_000 }));
  instrumentLruCache(users, { name: 'users' });
  const load = async (id: number): Promise<User> => {
    await new Promise((resolve) => setTimeout(resolve, 25)); // stands in for a database query
    return { id, name: `user-${id}`, loadedAt: new Date().toISOString() };
  };
  return {
    async find(id) {
      let user = users.get(id);
      if (user === undefined) users.set(id, (user = await load(id)));
      return user;
    },
  };
}
