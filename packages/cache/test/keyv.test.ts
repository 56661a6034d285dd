import { randomUUID } from 'node:crypto';
import { createKeyv } from '@keyv/redis';
import Keyv from 'keyv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instrumentKeyv, type KeyvLike } from '@otelkit/cache';
import { cacheSnapshot, createTestMeterProvider, uniqueName, type TestReader } from './helpers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('instrumentKeyv', () => {
  let reader: TestReader;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
  });

  describe('backed by the real Redis', () => {
    let keyv: Keyv;
    beforeEach(() => {
      keyv = createKeyv(REDIS_URL, { namespace: `otelkit-cache-test-${randomUUID()}` });
    });
    afterEach(async () => {
      await keyv.clear();
      await keyv.disconnect();
    });

    it('counts hits and misses of a known pattern, puts and deletes', async () => {
      const name = uniqueName('keyv-redis');
      const handle = instrumentKeyv(keyv, { name });
      await keyv.set('a', { id: 1 });
      await keyv.set('b', 'two');
      for (let i = 0; i < 9; i++) {
        const key = i % 3 === 0 ? `missing-${i}` : i % 3 === 1 ? 'a' : 'b';
        const value = await keyv.get(key);
        expect(value === undefined).toBe(i % 3 === 0);
      }
      expect(await keyv.get(['a', 'nope', 'b'])).toEqual([{ id: 1 }, undefined, 'two']);
      expect(await keyv.delete('a')).toBe(true);
      const snapshot = await cacheSnapshot(reader, name);
      expect(snapshot['cache.requests{cache.result=hit}']).toBe(6 + 2);
      expect(snapshot['cache.requests{cache.result=miss}']).toBe(3 + 1);
      expect(snapshot['cache.puts']).toBe(2);
      expect(snapshot['cache.evictions{cache.eviction.reason=delete}']).toBe(1);
      expect(snapshot['cache.entries']).toBeUndefined();
      handle.unbind();
    });

    it('unbind removes its hooks and stops counting', async () => {
      const events = ['postGet', 'postGetRaw', 'postGetMany', 'postGetManyRaw', 'postSet', 'postDelete'];
      const sizes = () => events.map((event) => keyv.hooks.handlers.get(event)?.length ?? 0);
      const before = sizes();
      const name = uniqueName('keyv-unbind');
      const handle = instrumentKeyv(keyv, { name });
      expect(instrumentKeyv(keyv, { name: 'again' })).toBe(handle);
      expect(sizes()).toEqual(before.map((n) => n + 1));
      await keyv.get('x');
      handle.unbind();
      expect(sizes()).toEqual(before);
      await keyv.get('x');
      expect((await cacheSnapshot(reader, name))['cache.requests{cache.result=miss}'] ?? 1).toBe(1);
    });
  });

  it('counts an in-memory keyv too, and ignores a non-keyv target', async () => {
    const name = uniqueName('keyv-memory');
    const keyv = new Keyv();
    instrumentKeyv(keyv, { name });
    await keyv.set('k', 1);
    await keyv.get('k');
    await keyv.get('other');
    const snapshot = await cacheSnapshot(reader, name);
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(instrumentKeyv({ hooks: null } as unknown as KeyvLike, { name: 'x' }).bound).toBe(false);
  });
});
