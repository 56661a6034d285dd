import { diag, DiagLogLevel } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCacheRecorder, type CacheRecorderOptions } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName, type TestReader } from './helpers.js';

describe('createCacheRecorder', () => {
  let reader: TestReader;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
  });
  afterEach(() => {
    diag.disable();
  });

  it('reports what a hand-written Map cache records, with its size callback', async () => {
    const name = uniqueName('custom');
    const store = new Map<string, number>();
    const recorder = createCacheRecorder({ name, entries: () => store.size, maxEntries: () => 3 });
    const lookup = (key: string): number => {
      const hit = store.get(key);
      if (hit !== undefined) {
        recorder.recordHit();
        return hit;
      }
      recorder.recordMiss();
      if (store.size >= 3) {
        const oldest = store.keys().next().value as string;
        store.delete(oldest);
        recorder.recordEviction('evict');
      }
      store.set(key, key.length);
      recorder.recordPut();
      return key.length;
    };
    for (const key of ['a', 'bb', 'a', 'ccc', 'dddd', 'a', 'bb']) lookup(key);
    recorder.recordEviction('ttl-sweep');
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot).toEqual({
      'cache.requests{cache.result=hit}': 1,
      'cache.requests{cache.result=miss}': 6,
      'cache.puts': 6,
      'cache.evictions{cache.eviction.reason=evict}': 3,
      'cache.evictions{cache.eviction.reason=expire}': 0,
      'cache.evictions{cache.eviction.reason=delete}': 0,
      'cache.evictions{cache.eviction.reason=set}': 0,
      'cache.evictions{cache.eviction.reason=ttl-sweep}': 1,
      'cache.entries': 3,
      'cache.max_entries': 3,
    });
    const metric = await reader.metric('cache.evictions');
    expect(metric?.descriptor.unit).toBe('{eviction}');
    expect(metric?.descriptor.description).toMatch(/removed/);
    recorder.unbind();
  });

  it('contains a throwing size callback: other numbers still reported, nothing reaches the caller', async () => {
    const warn = vi.fn();
    diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, DiagLogLevel.WARN);
    const name = uniqueName('custom-throw');
    const recorder = createCacheRecorder({
      name,
      entries: () => {
        throw new Error('size unavailable');
      },
    });
    recorder.recordHit();
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.entries']).toBeUndefined();
    await reader.metrics();
    expect(warn.mock.calls.filter(([line]) => String(line).includes('size unavailable'))).toHaveLength(1);
    recorder.unbind();
  });

  it('gives a no-op recorder and one diagnostic for bad options', async () => {
    const warn = vi.fn();
    diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, DiagLogLevel.WARN);
    const recorder = createCacheRecorder({ name: 42 } as unknown as CacheRecorderOptions);
    createCacheRecorder(null as unknown as CacheRecorderOptions);
    expect(recorder.bound).toBe(false);
    recorder.recordHit();
    recorder.recordEviction('evict');
    recorder.unbind();
    expect(warn.mock.calls.filter(([line]) => String(line).includes('createCacheRecorder'))).toHaveLength(1);
    expect(await reader.metric('cache.requests')).toBeUndefined();
  });

  it('stops reporting new counts after unbind', async () => {
    const name = uniqueName('custom-unbind');
    const recorder = createCacheRecorder({ name });
    recorder.recordMiss();
    expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=miss}']).toBe(1);
    recorder.unbind();
    expect(recorder.bound).toBe(false);
    recorder.recordMiss();
    recorder.recordMiss();
    expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=miss}'] ?? 1).toBe(1);
  });
});
