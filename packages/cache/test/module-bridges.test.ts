import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheModuleBridges, instrumentLruCache, type LruCacheLike } from '@otelkit/cache';
import type { ModuleBridge } from '@otelkit/core';
import { cacheSnapshot, createTestMeterProvider, type TestReader } from './helpers.js';

const require = createRequire(import.meta.url);
const bridge = (name: string): ModuleBridge => {
  const found = cacheModuleBridges.find((b) => b.name === name);
  if (!found) throw new Error(`no bridge ${name}`);
  return found;
};
interface CacheInstance {
  get(key: unknown): unknown;
  set(key: unknown, value: unknown): unknown;
  close(): void;
}
type Ctor = new (...args: unknown[]) => CacheInstance;

/** All cache.name values currently reported for `metric`. */
async function namesOf(reader: TestReader, metric: string): Promise<string[]> {
  const data = await reader.metric(metric);
  return [...new Set((data?.dataPoints ?? []).map((p) => String(p.attributes['cache.name'])))];
}

const fakeDependencyDir = join(tmpdir(), `otelkit-cache-${process.pid}`, 'node_modules', 'fake-dep');
afterAll(() => rmSync(join(tmpdir(), `otelkit-cache-${process.pid}`), { recursive: true, force: true }));

describe('cacheModuleBridges', () => {
  let reader: TestReader;
  beforeEach(() => {
    ({ reader } = createTestMeterProvider({ global: true }));
  });

  it('describes lru-cache, node-cache, keyv and cache-manager', () => {
    expect(cacheModuleBridges.map((b) => [b.moduleName, b.supportedVersions])).toEqual([
      ['lru-cache', ['>=10 <12']],
      ['node-cache', ['>=5 <6']],
      ['keyv', ['>=5 <6']],
      ['cache-manager', ['>=7 <8']],
    ]);
  });

  it('lru-cache (CJS exports object): app caches are bridged, named by option or creation site, evictions counted', async () => {
    const real = require('lru-cache') as { LRUCache: Ctor };
    const exports = { ...real };
    const lru = bridge('lru-cache');
    expect(lru.patch(exports, '11.5.3')).toBe(exports);
    const Patched = exports.LRUCache;
    expect(Patched).not.toBe(real.LRUCache);
    expect(lru.patch(exports, '11.5.3')).toBe(exports);
    expect(exports.LRUCache).toBe(Patched); // patching twice is harmless

    const disposed: string[] = [];
    const named = new Patched({ max: 1, name: 'zero-code-users', dispose: (_v: unknown, k: string, r: string) => disposed.push(`${k}:${r}`) });
    expect(named).toBeInstanceOf(real.LRUCache);
    named.set('a', 1);
    named.set('b', 2);
    named.get('b');
    named.get('a');
    const snapshot = await cacheSnapshot(reader, 'zero-code-users');
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(snapshot['cache.evictions{cache.eviction.reason=evict}']).toBe(1);
    expect(disposed).toEqual(['a:evict']);

    const bySite = new Patched({ max: 5 });
    bySite.get('x');
    const names = await namesOf(reader, 'cache.requests');
    const siteName = names.find((n) => /module-bridges\.test\.ts:\d+$/.test(n));
    expect(siteName).toBeDefined();
    // No dispose given: evictions are counted all the same, by reason.
    for (let i = 0; i < 7; i++) bySite.set(`k${i}`, i);
    bySite.set('k6', 66);
    (bySite as unknown as { delete(key: string): boolean }).delete('k5');
    const bySiteSnapshot = await cacheSnapshot(reader, siteName!);
    expect(bySiteSnapshot['cache.evictions{cache.eviction.reason=evict}']).toBe(2);
    expect(bySiteSnapshot['cache.evictions{cache.eviction.reason=set}']).toBe(1);
    expect(bySiteSnapshot['cache.evictions{cache.eviction.reason=delete}']).toBe(1);
    expect(bySite.get('k6')).toBe(66);

    // Options with inherited getters (a class instance) reach lru-cache as without us.
    class Options {
      get max(): number {
        return 3;
      }
    }
    const fromClass = new Patched(new Options() as never);
    expect((fromClass as unknown as { max: number }).max).toBe(3);

    // An explicit call replaces the automatic binding, e.g. to name the cache.
    const handle = instrumentLruCache(bySite as unknown as LruCacheLike, { name: 'zero-code-renamed' });
    expect(handle.bound).toBe(true);
    bySite.get('x');
    bySite.get('x');
    expect((await cacheSnapshot(reader, 'zero-code-renamed'))['cache.requests{cache.result=miss}']).toBe(2);
    expect(instrumentLruCache(bySite as unknown as LruCacheLike, { name: 'third' })).toBe(handle);
    handle.unbind();

    lru.unpatch?.(exports);
    expect(exports.LRUCache).toBe(real.LRUCache);
    expect(Object.prototype.hasOwnProperty.call(new Patched({ max: 1 }), 'get')).toBe(false);
  });

  it('lru-cache (read-only ESM-like namespace, v10): returns patched copy; dependency caches are left alone', async () => {
    const real = require('lru-cache-10') as { LRUCache: Ctor };
    const namespace = Object.freeze({ LRUCache: real.LRUCache });
    const patched = bridge('lru-cache').patch(namespace, '10.4.3') as { LRUCache: Ctor };
    expect(patched).not.toBe(namespace);
    expect(patched.LRUCache).not.toBe(real.LRUCache);

    mkdirSync(fakeDependencyDir, { recursive: true });
    const file = join(fakeDependencyDir, 'index.mjs');
    writeFileSync(file, 'export function make(LRUCache) { return new LRUCache({ max: 3, name: undefined }); }\n');
    const dependency = (await import(pathToFileURL(file).href)) as { make: (c: Ctor) => Record<string, unknown> };
    const internal = dependency.make(patched.LRUCache);
    expect(Object.prototype.hasOwnProperty.call(internal, 'get')).toBe(false);
    const mine = new patched.LRUCache({ max: 3 });
    expect(Object.prototype.hasOwnProperty.call(mine, 'get')).toBe(true);
  });

  it('node-cache: the CJS export is the class, so a bridged subclass is returned', async () => {
    const real = require('node-cache') as Ctor & { version: string };
    const Patched = bridge('node-cache').patch(real, '5.1.2') as Ctor & { version: string };
    expect(Patched).not.toBe(real);
    expect(Patched.version).toBe(real.version);
    const cache = new Patched({ checkperiod: 0, name: 'zero-code-node' });
    cache.set('a', 1);
    cache.get('a');
    cache.get('b');
    const snapshot = await cacheSnapshot(reader, 'zero-code-node');
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(snapshot['cache.puts']).toBe(1);
    cache.close();
  });

  it('keyv (CJS exports with getters): a copy with Keyv and default replaced; namespace names the cache', async () => {
    const real = require('keyv') as { Keyv: Ctor; default: Ctor; KeyvHooks: unknown };
    const patched = bridge('keyv').patch(real, '5.6.0') as typeof real;
    expect(patched).not.toBe(real);
    expect(patched.Keyv).toBe(patched.default);
    expect(patched.KeyvHooks).toBe(real.KeyvHooks);
    const keyv = new patched.Keyv({ namespace: 'zero-code-keyv' });
    await keyv.set('k', 1);
    await keyv.get('k');
    await keyv.get('other');
    const snapshot = await cacheSnapshot(reader, 'zero-code-keyv');
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
  });

  it('cache-manager: createCache is wrapped so each cache is bridged', async () => {
    const real = require('cache-manager') as { createCache: (options?: unknown) => CacheInstance };
    const exports = { ...real };
    bridge('cache-manager').patch(exports, '7.2.9');
    const cache = exports.createCache({ cacheId: 'zero-code-pages' });
    await cache.set('p', 'html');
    await cache.get('p');
    await cache.get('q');
    const snapshot = await cacheSnapshot(reader, 'zero-code-pages');
    expect(snapshot['cache.requests{cache.result=hit}']).toBe(1);
    expect(snapshot['cache.requests{cache.result=miss}']).toBe(1);
    expect(snapshot['cache.puts']).toBe(1);
    bridge('cache-manager').unpatch?.(exports);
    expect(exports.createCache).toBe(real.createCache);
  });

  it('never throws: unsupported versions, odd exports and throwing getters come back unchanged', () => {
    for (const b of cacheModuleBridges) {
      const odd = { LRUCache: 1, default: null };
      expect(b.patch(odd, '99.0.0')).toBe(odd);
      expect(b.patch(null, undefined)).toBe(null);
      expect(b.patch(42, '1.0.0')).toBe(42);
      const hostile = Object.defineProperty({}, 'LRUCache', {
        get() {
          throw new Error('boom');
        },
        enumerable: true,
      });
      for (const key of ['Keyv', 'default', 'createCache']) Object.defineProperty(hostile, key, { get: () => { throw new Error('boom'); }, enumerable: true });
      expect(() => b.patch(hostile, undefined)).not.toThrow();
      expect(() => b.unpatch?.(hostile)).not.toThrow();
      expect(() => b.unpatch?.(undefined)).not.toThrow();
    }
  });
});
