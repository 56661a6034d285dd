import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { instrumentLruCache } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName } from './helpers.js';

describe('cache names', () => {
  it('two live caches with one name never share a series: the second reports as name#2, and the name is freed on unbind', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const name = uniqueName('shared');
    const first = new LRUCache<string, string>({ max: 10 });
    const second = new LRUCache<string, string>({ max: 10 });
    const firstHandle = instrumentLruCache(first, { name });
    const secondHandle = instrumentLruCache(second, { name });
    first.set('a', '1');
    second.set('a', '1');
    second.set('b', '2');
    expect((await cacheSnapshot(reader, name))['cache.puts']).toBe(1);
    expect((await cacheSnapshot(reader, `${name}#2`))['cache.puts']).toBe(2);
    firstHandle.unbind();
    secondHandle.unbind();
    // Freed: a new cache under the name gets it back.
    const third = new LRUCache<string, string>({ max: 10 });
    const thirdHandle = instrumentLruCache(third, { name });
    third.set('x', 'y');
    third.set('y', 'z');
    third.set('z', 'w');
    expect((await cacheSnapshot(reader, name))['cache.puts']).toBe(3);
    thirdHandle.unbind();
  });
});

describe('a cache that cannot be wrapped', () => {
  it('a frozen lru-cache gets a no-op handle, nothing thrown, and its name stays free', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const name = uniqueName('frozen');
    const frozen = Object.freeze(new LRUCache<string, string>({ max: 10 }));
    let handle: ReturnType<typeof instrumentLruCache> | undefined;
    expect(() => (handle = instrumentLruCache(frozen, { name }))).not.toThrow();
    expect(handle!.bound).toBe(false);
    const other = new LRUCache<string, string>({ max: 10 });
    const otherHandle = instrumentLruCache(other, { name });
    other.set('a', '1');
    expect((await cacheSnapshot(reader, name))['cache.puts']).toBe(1);
    otherHandle.unbind();
  });
});
