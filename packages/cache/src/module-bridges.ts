import { bindAutomatically, constructingSubclass, describeError, isReplacement, replaceExports, reportOnce, restoreExports, wrappingFactory, type ModuleBridge } from '@otelkit/core';
import { instrumentCacheManager, type CacheManagerLike } from './cache-manager.js';
import { findCreationSite } from './creation-site.js';
import { instrumentKeyv, type KeyvLike } from './keyv.js';
import { instrumentLruCache, trackLruCacheEvictions, type LruCacheLike } from './lru-cache.js';
import { instrumentNodeCache, type NodeCacheLike } from './node-cache.js';

/** Caches bridged automatically per creation site, at most; more from one site are left alone. */
const MAX_AUTO_CACHES_PER_SITE = 10;

type AnyConstructor = new (...args: never[]) => object;
type Replacement = (...args: never[]) => unknown;

interface BridgeState {
  active: boolean;
}

const perSite = new Map<string, number>();

/**
 * The `cache.name` of a cache created with the zero-code mode on: `name` from its options when it is a
 * string, else the creation site (`src/users.js:12`, `#2`… for further caches from the same line).
 * Undefined for caches created inside dependencies, and past {@link MAX_AUTO_CACHES_PER_SITE} per site.
 */
function autoName(library: string, optionName: unknown, skipPackages: readonly string[]): string | undefined {
  if (typeof optionName === 'string' && optionName.length > 0) return optionName;
  const creation = findCreationSite([`${library}/`, ...skipPackages]);
  if (!creation || creation.inDependency) return undefined;
  const count = (perSite.get(creation.site) ?? 0) + 1;
  if (count > MAX_AUTO_CACHES_PER_SITE) {
    reportOnce(
      `@otelkit/cache auto ${creation.site}`,
      `more than ${MAX_AUTO_CACHES_PER_SITE} ${library} caches were created at ${creation.site}; the rest are not bridged automatically (name them and call the bridge yourself).`,
    );
    return undefined;
  }
  perSite.set(creation.site, count);
  return count === 1 ? creation.site : `${creation.site}#${count}`;
}

function nameOption(options: unknown, key = 'name'): unknown {
  return typeof options === 'object' && options !== null ? (options as Record<string, unknown>)[key] : undefined;
}

function majorOf(version: string | undefined): number | undefined {
  const major = Number.parseInt(version ?? '', 10);
  return Number.isFinite(major) ? major : undefined;
}

/** A subclass of a cache class that bridges each instance right after the library built it. */
function subclass(
  Original: AnyConstructor,
  state: BridgeState,
  prepareArgs: (args: unknown[]) => unknown[],
  bind: (instance: object, args: unknown[]) => void,
): AnyConstructor {
  return constructingSubclass(Original, {
    prepareArgs,
    afterConstruct: bind,
    isActive: () => state.active,
    failureKey: '@otelkit/cache automatic bridging',
  });
}

/** A `patch` that checks the version, never throws, and only patches once. */
function guardedPatch(
  bridge: string,
  majors: readonly number[],
  state: BridgeState,
  apply: (moduleExports: object | ((...args: never[]) => unknown)) => unknown,
): ModuleBridge['patch'] {
  return (moduleExports, moduleVersion) => {
    try {
      const major = majorOf(moduleVersion);
      if (major !== undefined && !majors.includes(major)) {
        reportOnce(`${bridge} version`, `${bridge} ${moduleVersion} is not supported by @otelkit/cache (supported majors: ${majors.join(', ')}); not bridged.`);
        return moduleExports;
      }
      if ((typeof moduleExports !== 'object' && typeof moduleExports !== 'function') || moduleExports === null) {
        reportOnce(`${bridge} exports`, `${bridge}: unexpected module exports; not bridged.`);
        return moduleExports;
      }
      state.active = true;
      return apply(moduleExports);
    } catch (error) {
      reportOnce(`${bridge} patch`, `${bridge}: patching failed and was skipped: ${describeError(error)}`);
      return moduleExports;
    }
  };
}

/** Replaces `keys` of the exports (and of `exports.default`, CJS seen from ESM) by `make(original)`. */
function patchKeys(moduleExports: object, keys: readonly string[], make: (original: Replacement) => Replacement): object {
  return replaceExports(moduleExports, keys, (original) => make(original as Replacement)).exports;
}

/** Puts the originals back where our replacements still are, and stops automatic binding. */
function unpatchKeys(state: BridgeState, keys: readonly string[]): (moduleExports: unknown) => void {
  return (moduleExports) => {
    state.active = false;
    restoreExports(moduleExports, keys);
  };
}

const lruState: BridgeState = { active: false };
/** The names chosen for app caches being constructed, by their options object. */
const lruNames = new WeakMap<object, string>();
const nodeCacheState: BridgeState = { active: false };
const keyvState: BridgeState = { active: false };
const cacheManagerState: BridgeState = { active: false };

const lruCacheBridge: ModuleBridge = {
  name: 'lru-cache',
  moduleName: 'lru-cache',
  supportedVersions: ['>=10 <12'],
  patch: guardedPatch('lru-cache', [10, 11], lruState, (moduleExports) =>
    patchKeys(moduleExports, ['LRUCache'], (original) =>
      subclass(
        original as unknown as AnyConstructor,
        lruState,
        // Evictions are counted for every cache the bridge binds (an app cache): a `dispose` that counts
        // and chains to the app's (or to none) changes nothing the app can observe but `cache.dispose`
        // itself; lru-cache then calls it on evictions, expiries, overwrites, deletes and clear(). The
        // name is chosen here, before construction, so caches of dependencies are left exactly as they were.
        ([options, ...rest]) => {
          const name = typeof options === 'object' && options !== null ? autoName('lru-cache', nameOption(options), []) : undefined;
          if (name === undefined) return [options, ...rest];
          lruNames.set(options as object, name);
          return [trackLruCacheEvictions(options), ...rest];
        },
        (cache, [options]) => {
          const name = typeof options === 'object' && options !== null ? lruNames.get(options) : undefined;
          if (name !== undefined) bindAutomatically(() => instrumentLruCache(cache as LruCacheLike, { name }));
        },
      ) as unknown as Replacement,
    ),
  ),
  unpatch: unpatchKeys(lruState, ['LRUCache']),
  enabledByDefault: true,
};

const nodeCacheBridge: ModuleBridge = {
  name: 'node-cache',
  moduleName: 'node-cache',
  supportedVersions: ['>=5 <6'],
  patch: guardedPatch('node-cache', [5], nodeCacheState, (moduleExports) => {
    const make = (original: Replacement): Replacement =>
      subclass(original as unknown as AnyConstructor, nodeCacheState, (args) => args, (cache, [options]) => {
        const name = autoName('node-cache', nameOption(options), []);
        if (name !== undefined) bindAutomatically(() => instrumentNodeCache(cache as NodeCacheLike, { name }));
      }) as unknown as Replacement;
    // CommonJS: the exports are the class itself, so the replacement is returned.
    if (typeof moduleExports === 'function') return isReplacement(moduleExports) ? moduleExports : make(moduleExports as Replacement);
    return patchKeys(moduleExports, ['default'], make);
  }),
  unpatch: unpatchKeys(nodeCacheState, ['default']),
  enabledByDefault: true,
};

const keyvBridge: ModuleBridge = {
  name: 'keyv',
  moduleName: 'keyv',
  supportedVersions: ['>=5 <6'],
  patch: guardedPatch('keyv', [5], keyvState, (moduleExports) =>
    patchKeys(moduleExports as object, ['Keyv', 'default'], (original) =>
      subclass(original as unknown as AnyConstructor, keyvState, (args) => args, (keyv, args) => {
        // new Keyv(options) or new Keyv(store, options): a namespace names the cache well.
        const options = args.find((arg) => nameOption(arg, 'namespace') !== undefined || nameOption(arg) !== undefined);
        const name = autoName('keyv', nameOption(options) ?? nameOption(options, 'namespace'), ['@keyv/']);
        if (name !== undefined) bindAutomatically(() => instrumentKeyv(keyv as KeyvLike, { name }));
      }) as unknown as Replacement,
    ),
  ),
  unpatch: unpatchKeys(keyvState, ['Keyv', 'default']),
  enabledByDefault: true,
};

const cacheManagerBridge: ModuleBridge = {
  name: 'cache-manager',
  moduleName: 'cache-manager',
  supportedVersions: ['>=7 <8'],
  patch: guardedPatch('cache-manager', [7], cacheManagerState, (moduleExports) =>
    patchKeys(moduleExports as object, ['createCache'], (original) =>
      wrappingFactory(original, {
        afterCall: (cache, args) => {
          const name = autoName('cache-manager', nameOption(args[0]) ?? nameOption(args[0], 'cacheId'), []);
          if (name !== undefined) bindAutomatically(() => instrumentCacheManager(cache as CacheManagerLike, { name }));
        },
        isActive: () => cacheManagerState.active,
        failureKey: '@otelkit/cache automatic bridging',
      }) as Replacement,
    ),
  ),
  unpatch: unpatchKeys(cacheManagerState, ['createCache']),
  enabledByDefault: true,
};

/**
 * The zero-code mode of `@otelkit/cache`, for `@otelkit/node`'s preload: when the app loads lru-cache
 * 10/11, node-cache 5, keyv 5 or cache-manager 7, caches the APP creates are bridged automatically
 * (opt-out: `OTELKIT_BRIDGES_DISABLED=lru-cache,node-cache,keyv,cache-manager`). Caches created inside
 * dependencies are left alone. Each is named by its `name` option (keyv: `namespace`; cache-manager:
 * `cacheId`) or else by its creation site, e.g. `src/users.js:12`. lru-cache caches created with a
 * `dispose` option also count evictions (a counting `dispose` is chained to yours); for others, wrap the
 * options in `trackLruCacheEvictions`, since adding a `dispose` would change what lru-cache does.
 */
export const cacheModuleBridges: readonly ModuleBridge[] = Object.freeze([
  lruCacheBridge,
  nodeCacheBridge,
  keyvBridge,
  cacheManagerBridge,
]);
