import NodeCache from 'node-cache';
import { beforeEach, describe, expect, it } from 'vitest';
import { instrumentNodeCache, type NodeCacheLike } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName, type TestReader } from './helpers.js';

describe('instrumentNodeCache', () => {
  let reader: TestReader;
  let cache: NodeCache;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
    cache = new NodeCache({ checkperiod: 0, maxKeys: 50 });
    return () => cache.close();
  });

  it('counts hits and misses from node-cache stats, puts, entries and size', async () => {
    const name = uniqueName('node-cache');
    cache.set('before', 1);
    cache.get('before'); // before binding: not counted
    instrumentNodeCache(cache, { name });
    cache.set('a', 'x'.repeat(10));
    cache.set('b', 'y');
    for (let i = 0; i < 12; i++) cache.get(i % 4 === 0 ? 'missing' : 'a');
    cache.mget(['a', 'b', 'nope']);
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(9 + 2);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(3 + 1);
    expect(snapshot['cache.puts']).toBe(2);
    expect(snapshot['cache.entries']).toBe(3);
    const { ksize, vsize } = cache.getStats();
    expect(snapshot['cache.size']).toBe(ksize + vsize);
    expect(snapshot['cache.max_entries']).toBe(50);
  });

  it('stays monotonic across flushStats()', async () => {
    const name = uniqueName('node-cache-flush');
    instrumentNodeCache(cache, { name });
    cache.set('a', 1);
    cache.get('a');
    cache.get('a');
    expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=hit}']).toBe(2);
    cache.get('a');
    cache.flushStats();
    cache.get('a');
    expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=hit}']).toBe(4);
  });

  it('counts deletes and TTL expiries by reason', async () => {
    const name = uniqueName('node-cache-evict');
    instrumentNodeCache(cache, { name });
    cache.set('gone', 1);
    cache.del('gone');
    cache.set('short', 1, 0.01);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.get('short')).toBeUndefined();
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.evictions{cache.eviction.reason=delete}']).toBe(1);
    expect(snapshot['cache.evictions{cache.eviction.reason=expire}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(snapshot['cache.entries']).toBe(0);
  });

  it('unbind removes exactly the listeners it added', () => {
    const events = ['set', 'del', 'expired'];
    const before = events.map((event) => cache.listenerCount(event));
    const handle = instrumentNodeCache(cache, { name: uniqueName('node-cache-unbind') });
    expect(instrumentNodeCache(cache, { name: 'again' })).toBe(handle);
    expect(events.map((event) => cache.listenerCount(event))).toEqual(before.map((n) => n + 1));
    handle.unbind();
    expect(events.map((event) => cache.listenerCount(event))).toEqual(before);
    expect(instrumentNodeCache({} as NodeCacheLike, { name: 'x' }).bound).toBe(false);
  });
});
