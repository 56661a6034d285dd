import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';
import { LRUCache } from 'lru-cache';
import NodeCache from 'node-cache';
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheRecorder, instrumentLruCache, instrumentNodeCache } from '../src/index.js';

/**
 * A meter provider where everything throws: instrument creation, callback registration, and the
 * `observe` of a collection. `collect()` runs the registered callbacks as a collection would.
 */
function explodingTelemetry(): { provider: MeterProvider; collect: () => void } {
  const explode = (): never => {
    throw new Error('recorder exploded');
  };
  const callbacks: Array<(result: { observe: () => never }) => void> = [];
  let creations = 0;
  const meter = new Proxy({} as Meter, {
    get: (_target, property) => {
      if (property === 'addBatchObservableCallback') {
        return (callback: (result: { observe: () => never }) => void) => {
          callbacks.push(callback);
          explode();
        };
      }
      if (property === 'removeBatchObservableCallback') return explode;
      // Creation throws on every other call, so both "creation throws" and "observe throws" are exercised.
      return () => (++creations % 2 === 0 ? explode() : { addCallback: explode, removeCallback: explode });
    },
  });
  return {
    provider: { getMeter: () => meter },
    collect: () => {
      for (const callback of callbacks) callback({ observe: explode });
    },
  };
}

afterEach(() => {
  metrics.disable();
});

describe('a recorder that throws never reaches the caller', () => {
  it('lru-cache: binding, gets, sets, collection and unbind behave as without the bridge', () => {
    const { provider, collect } = explodingTelemetry();
    metrics.setGlobalMeterProvider(provider);
    const bare = new LRUCache<string, number>({ max: 2 });
    const bridged = new LRUCache<string, number>({ max: 2 });
    let handle: { unbind(): void } | undefined;
    expect(() => (handle = instrumentLruCache(bridged, { name: 'exploding-lru' }))).not.toThrow();
    const run = (cache: LRUCache<string, number>) => {
      const seen: unknown[] = [];
      for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) {
        seen.push(cache.get(key));
        seen.push(cache.set(key, key.charCodeAt(0)) === cache);
      }
      seen.push(cache.size, [...cache.keys()]);
      return seen;
    };
    expect(run(bridged)).toEqual(run(bare));
    expect(() => collect()).not.toThrow();
    expect(() => handle?.unbind()).not.toThrow();
  });

  it('node-cache and the custom recorder: no exception from binding, recording, collection or unbind', () => {
    const { provider, collect } = explodingTelemetry();
    metrics.setGlobalMeterProvider(provider);
    const cache = new NodeCache();
    let handle: { unbind(): void } | undefined;
    expect(() => (handle = instrumentNodeCache(cache, { name: 'exploding-node-cache' }))).not.toThrow();
    cache.set('a', 1);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('missing')).toBeUndefined();
    const recorder = createCacheRecorder({ name: 'exploding-custom', entries: () => 1 });
    expect(() => {
      recorder.recordHit();
      recorder.recordMiss();
      recorder.recordEviction('expire');
      collect();
      recorder.unbind();
      handle?.unbind();
    }).not.toThrow();
    cache.close();
  });
});
