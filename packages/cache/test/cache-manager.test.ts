import { createCache } from 'cache-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { instrumentCacheManager, type CacheManagerLike } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName, type TestReader } from './helpers.js';

describe('instrumentCacheManager', () => {
  let reader: TestReader;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
  });

  it('counts get hits and misses, mget, puts and deletes of a known pattern', async () => {
    const name = uniqueName('cache-manager');
    const cache = createCache();
    instrumentCacheManager(cache, { name });
    await cache.set('a', 1);
    await cache.mset([
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    for (let i = 0; i < 10; i++) expect(await cache.get(i % 5 === 0 ? 'missing' : 'a')).toBe(i % 5 === 0 ? undefined : 1);
    expect(await cache.mget(['a', 'b', 'x'])).toEqual([1, 2, undefined]);
    await cache.del('a');
    await cache.mdel(['b', 'c']);
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(8 + 2);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(2 + 1);
    expect(snapshot['cache.puts']).toBe(3);
    expect(snapshot['cache.evictions{cache.eviction.reason=delete}']).toBe(3);
  });

  it('returns the very promise get returned, and unbind restores get and the listeners', async () => {
    const cache = createCache();
    const originalGet = cache.get;
    // cache-manager hides its emitter: record what the bridge adds and removes through on/off.
    const added: Array<[string, unknown]> = [];
    const removed: Array<[string, unknown]> = [];
    const { on, off } = cache;
    cache.on = ((event: string, listener: never) => (added.push([event, listener]), on(event as never, listener))) as typeof on;
    cache.off = ((event: string, listener: never) => (removed.push([event, listener]), off(event as never, listener))) as typeof off;
    const name = uniqueName('cache-manager-unbind');
    const handle = instrumentCacheManager(cache, { name });
    expect(cache.get).not.toBe(originalGet);
    await cache.set('k', 'v');
    const promise = cache.get('k');
    expect(promise).toBeInstanceOf(Promise);
    expect(await promise).toBe('v');
    handle.unbind();
    expect(cache.get).toBe(originalGet);
    expect(added.length).toBeGreaterThan(0);
    expect(removed).toEqual(added);
    await cache.get('k');
    await cache.set('k2', 'v');
    const after = await cacheSnapshot(reader, name);
    expect(after['cache.requests{cache.result=hit}'] ?? 1).toBe(1);
    expect(after['cache.puts'] ?? 1).toBe(1);
    expect(instrumentCacheManager({} as CacheManagerLike, { name: 'x' }).bound).toBe(false);
  });
});
