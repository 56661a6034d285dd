import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { instrumentLruCache } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let droppedCollected = false;
const registry = new FinalizationRegistry(() => (droppedCollected = true));

/** Binds a cache and returns nothing that holds it, so it can be collected. */
function bindDroppedCache(name: string): void {
  const cache = new LRUCache<string, string>({ max: 10 });
  instrumentLruCache(cache, { name });
  cache.set('k', 'v');
  registry.register(cache, name);
}

describe('a bound cache that the app drops', () => {
  it('leaves the reports without stopping the next cache from reporting in the same collection', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const dropped = uniqueName('dropped');
    const kept = uniqueName('kept');
    bindDroppedCache(dropped);
    const cache = new LRUCache<string, string>({ max: 10 });
    instrumentLruCache(cache, { name: kept });
    cache.set('a', '1');
    cache.get('a');
    expect((await cacheSnapshot(reader, dropped))['cache.puts']).toBe(1);
    // Let the dropped cache go (a few rounds: WeakRef targets are kept for the current job).
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(droppedCollected).toBe(true);
    expect(cache.get('a')).toBe('1');
    // The collection in which the dropped cache's callback finds its cache gone still reads the kept one
    // (a callback removed while the SDK iterates its callbacks would make it skip the next one).
    const snapshot = await cacheSnapshot(reader, kept);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(2);
    // The collected cache's binding was released on its own: its name is free for a new cache.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = new LRUCache<string, string>({ max: 10 });
    const handle = instrumentLruCache(again, { name: dropped });
    for (let i = 0; i < 5; i++) again.set(`k${i}`, 'v');
    expect((await cacheSnapshot(reader, dropped))['cache.puts']).toBe(5);
    handle.unbind();
  });
});
