import { diag, DiagLogLevel } from '@opentelemetry/api';
import { LRUCache as LRUCache11 } from 'lru-cache';
import { LRUCache as LRUCache10 } from 'lru-cache-10';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { instrumentLruCache, trackLruCacheEvictions, type LruCacheLike } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, pointValue, uniqueName, type TestReader } from './helpers.js';

type AnyLru = new (options: Record<string, unknown>) => LRUCache11<string, string> & LruCacheLike;

describe.each([
  ['lru-cache 11', LRUCache11 as unknown as AnyLru],
  ['lru-cache 10', LRUCache10 as unknown as AnyLru],
])('%s', (_label, LRUCache) => {
  let reader: TestReader;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
  });

  it('counts hits and misses of a known get pattern exactly, and puts', async () => {
    const name = uniqueName('lru');
    const cache = new LRUCache({ max: 100 });
    instrumentLruCache(cache, { name });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, `v${i}`);
    let expectedHits = 0;
    let expectedMisses = 0;
    for (let i = 0; i < 37; i++) {
      const key = i % 3 === 0 ? `absent${i}` : `k${i % 10}`;
      const value = cache.get(key);
      if (i % 3 === 0) {
        expectedMisses++;
        expect(value).toBeUndefined();
      } else {
        expectedHits++;
        expect(value).toBe(`v${i % 10}`);
      }
    }
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(expectedHits);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(expectedMisses);
    expect(snapshot['cache.puts']).toBe(10);
    expect(snapshot['cache.entries']).toBe(10);
    expect(snapshot['cache.max_entries']).toBe(100);
    // Not built with trackLruCacheEvictions, no sizes tracked: those numbers are left out.
    expect(snapshot['cache.evictions{cache.eviction.reason=evict}']).toBeUndefined();
    expect(snapshot['cache.size']).toBeUndefined();
    const requests = await reader.metric('cache.requests');
    expect(requests?.descriptor.unit).toBe('{request}');
  });

  it('counts evictions by reason: capacity, replace, delete and TTL expiry', async () => {
    const name = uniqueName('lru-evict');
    const disposed: string[] = [];
    const cache = new LRUCache(
      trackLruCacheEvictions({
        max: 3,
        ttl: 30,
        dispose: (_value: string, key: string, reason: string) => disposed.push(`${key}:${reason}`),
      }),
    );
    instrumentLruCache(cache, { name });
    for (const key of ['a', 'b', 'c', 'd', 'e']) cache.set(key, key); // a, b evicted
    cache.set('c', 'c2'); // replaced: reason set
    cache.delete('d'); // delete
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(cache.get('e')).toBeUndefined(); // stale: removed with reason expire, a miss
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.evictions{cache.eviction.reason=evict}']).toBe(2);
    expect(snapshot['cache.evictions{cache.eviction.reason=set}']).toBe(1);
    expect(snapshot['cache.evictions{cache.eviction.reason=delete}']).toBe(1);
    expect(snapshot['cache.evictions{cache.eviction.reason=expire}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(snapshot['cache.entries']).toBe(1);
    // The user's dispose still runs with the same arguments.
    expect(disposed).toEqual(['a:evict', 'b:evict', 'c:set', 'd:delete', 'e:expire']);
  });

  it('follows size and calculated size as the cache changes', async () => {
    const name = uniqueName('lru-size');
    const cache = new LRUCache({ maxSize: 100, sizeCalculation: (value: string) => value.length });
    instrumentLruCache(cache, { name });
    cache.set('a', 'xxxxxxxxxx');
    cache.set('b', 'yyyyy');
    let snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.entries']).toBe(2);
    expect(snapshot['cache.size']).toBe(15);
    expect(snapshot['cache.max_size']).toBe(100);
    expect(snapshot['cache.max_entries']).toBeUndefined();
    cache.delete('a');
    snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.entries']).toBe(1);
    expect(snapshot['cache.size']).toBe(5);
    expect((await reader.metric('cache.size'))?.descriptor.unit).toBe('By');
  });

  it('unbind stops counting and restores the instance exactly', async () => {
    const name = uniqueName('lru-unbind');
    const cache = new LRUCache({ max: 10 });
    const ownKeysBefore = Reflect.ownKeys(cache);
    const handle = instrumentLruCache(cache, { name });
    expect(Object.prototype.hasOwnProperty.call(cache, 'get')).toBe(true);
    expect(instrumentLruCache(cache, { name: 'other' })).toBe(handle);
    cache.set('a', 'a');
    cache.get('a');
    expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=hit}']).toBe(1);
    handle.unbind();
    handle.unbind();
    expect(handle.bound).toBe(false);
    expect(Reflect.ownKeys(cache)).toEqual(ownKeysBefore);
    expect(cache.get).toBe(LRUCache.prototype.get);
    expect(cache.set).toBe(LRUCache.prototype.set);
    cache.get('a');
    cache.get('b');
    // The SDK keeps a cumulative series' last value; what matters is that nothing more is counted.
    const after = await cacheSnapshot(reader, name);
    expect(after['cache.requests{cache.result=hit}'] ?? 1).toBe(1);
    expect(after['cache.requests{cache.result=miss}'] ?? 0).toBe(0);
  });

  it('changes no return value and passes options through (status objects still filled)', () => {
    const cache = new LRUCache({ max: 10 });
    const handle = instrumentLruCache(cache, { name: uniqueName('lru-same') });
    expect(cache.set('a', 'A')).toBe(cache);
    const status: Record<string, unknown> = {};
    expect(cache.get('a', { status } as never)).toBe('A');
    expect(status.get).toBe('hit');
    expect(cache.get('zz')).toBeUndefined();
    handle.unbind();
  });
});

describe('instrumentLruCache with bad arguments', () => {
  afterEach(() => {
    diag.disable();
  });

  it('reports once and returns a no-op handle', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const warn = vi.fn();
    diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, DiagLogLevel.WARN);
    for (const bad of [null, 42, {}, new Map()]) {
      const handle = instrumentLruCache(bad as unknown as LruCacheLike, { name: 'x' });
      expect(handle.bound).toBe(false);
      handle.unbind();
    }
    const cache = new LRUCache11<string, string>({ max: 1 });
    expect(instrumentLruCache(cache, { name: '' }).bound).toBe(false);
    expect(instrumentLruCache(cache, undefined as never).bound).toBe(false);
    expect(instrumentLruCache(new LRUCache10<string, number>({ max: 1 }), { name: ' ' }).bound).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(cache, 'get')).toBe(false);
    const targetWarnings = warn.mock.calls.filter(([line]) => String(line).includes('not an lru-cache'));
    expect(targetWarnings).toHaveLength(1);
    expect(warn.mock.calls.some(([line]) => String(line).includes('options.name'))).toBe(true);
    expect(pointValue(await reader.metric('cache.requests'), { 'cache.name': 'x' })).toBeUndefined();
  });

  it('keeps a throwing user dispose exactly as it was', () => {
    const cache = new LRUCache11<string, string>(
      trackLruCacheEvictions({
        max: 1,
        dispose: () => {
          throw new Error('user dispose');
        },
      }),
    );
    const handle = instrumentLruCache(cache, { name: uniqueName('lru-throw') });
    cache.set('a', 'a');
    expect(() => cache.set('b', 'b')).toThrow('user dispose');
    handle.unbind();
  });
});
