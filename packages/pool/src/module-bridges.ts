import { describeError, reportOnce, type ModuleBridge } from '@otelkit/core';
import { instrumentGenericPool } from './generic-pool.js';
import { instrumentMysql2 } from './mysql2.js';
import { bindAutomatically, isObject } from './pool-handle.js';
import { instrumentPg } from './pg.js';
import { instrumentTarn } from './tarn.js';
import { instrumentUndici } from './undici.js';

type Bind = (pool: never) => unknown;
type AnyClass = new (...args: unknown[]) => object;

const originals = new WeakMap<object, Map<string, unknown>>();
const PATCHED = Symbol('otelkit.pool.patched');

/** The objects to patch: the exports, and for an ESM namespace also its `default` (the CJS exports). */
function targetsOf(moduleExports: unknown): Array<Record<string, unknown>> {
  if (!isObject(moduleExports)) return [];
  const targets: Array<Record<string, unknown>> = [moduleExports];
  const fallback = moduleExports.default;
  if (isObject(fallback) && fallback !== moduleExports) targets.push(fallback);
  return targets;
}

function replaceExport(target: Record<string, unknown>, key: string, value: unknown): boolean {
  try {
    const current = target[key];
    let saved = originals.get(target);
    if (!saved) {
      saved = new Map();
      originals.set(target, saved);
    }
    if (!saved.has(key)) saved.set(key, current);
    try {
      target[key] = value;
    } catch {
      // tarn and TypeScript-compiled modules export through getters; a data property replaces them.
    }
    if (target[key] !== value) Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
    return target[key] === value;
  } catch {
    return false;
  }
}

/** A subclass that binds every instance it constructs; `instanceof` the original still holds. */
function bindingSubclass(Original: AnyClass, bind: Bind): AnyClass {
  const Bound = class extends Original {
    constructor(...args: unknown[]) {
      super(...args);
      try {
        bindAutomatically(() => bind(this as never));
      } catch (error) {
        reportOnce('pool.zero-code.bind', `automatic pool binding failed and was ignored: ${describeError(error)}`);
      }
    }
  };
  Object.defineProperty(Bound, 'name', { value: Original.name });
  Object.defineProperty(Bound, PATCHED, { value: true });
  return Bound;
}

/** A factory that binds every pool it returns. */
function bindingFactory(original: (...args: unknown[]) => unknown, bind: Bind): (...args: unknown[]) => unknown {
  const factory = function (this: unknown, ...args: unknown[]): unknown {
    const pool = original.apply(this, args);
    try {
      bindAutomatically(() => bind(pool as never));
    } catch (error) {
      reportOnce('pool.zero-code.bind', `automatic pool binding failed and was ignored: ${describeError(error)}`);
    }
    return pool;
  };
  Object.defineProperty(factory, 'name', { value: original.name });
  Object.defineProperty(factory, PATCHED, { value: true });
  return factory;
}

function isPatched(value: unknown): boolean {
  return isObject(value) && (value as Record<symbol, unknown>)[PATCHED] === true;
}

/** Patches the named class or factory exports of a module, in place; never throws. */
function patchExports(
  bridge: string,
  moduleExports: unknown,
  classes: readonly string[],
  factories: readonly string[],
  bind: Bind,
): unknown {
  try {
    let patched = 0;
    for (const target of targetsOf(moduleExports)) {
      for (const key of classes) {
        const value = target[key];
        if (typeof value !== 'function' || isPatched(value)) continue;
        if (replaceExport(target, key, bindingSubclass(value as AnyClass, bind))) patched++;
      }
      for (const key of factories) {
        const value = target[key];
        if (typeof value !== 'function' || isPatched(value)) continue;
        if (replaceExport(target, key, bindingFactory(value as (...args: unknown[]) => unknown, bind))) patched++;
      }
    }
    if (patched === 0 && !targetsOf(moduleExports).some((target) => [...classes, ...factories].some((key) => isPatched(target[key])))) {
      reportOnce(`pool.zero-code.${bridge}`, `${bridge}: found nothing to patch in the module exports; its pools are not bridged automatically`);
    }
  } catch (error) {
    reportOnce(`pool.zero-code.${bridge}`, `${bridge}: patching failed and was skipped: ${describeError(error)}`);
  }
  return moduleExports;
}

/** Puts back every export `patchExports` replaced. */
function unpatchExports(moduleExports: unknown): void {
  for (const target of targetsOf(moduleExports)) {
    const saved = originals.get(target);
    if (!saved) continue;
    for (const [key, value] of saved) {
      try {
        Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
      } catch {
        // an unpatch that cannot restore leaves the (harmless) binding subclass in place
      }
    }
    originals.delete(target);
  }
}

/**
 * Zero-code descriptions for `@otelkit/node`'s preload: every pool the app creates with these
 * libraries is bridged with its default name. Each entry can be turned off by its `name`.
 *
 * - `pg`: `Pool` replaced by a subclass that calls {@link instrumentPg} in its constructor.
 * - `mysql2` / `mysql2-promise`: `createPool` wrapped to call {@link instrumentMysql2} on the result.
 * - `generic-pool`: `createPool` wrapped to call {@link instrumentGenericPool}.
 * - `tarn`: `Pool` replaced by a subclass calling {@link instrumentTarn} (knex pools included; named `tarn`, `tarn#2`, …).
 * - `undici`: `Pool` and `Agent` replaced by subclasses calling {@link instrumentUndici}.
 */
export const poolModuleBridges: readonly ModuleBridge[] = Object.freeze([
  moduleBridge('pg', 'pg', '>=8 <9', { classes: ['Pool'] }, instrumentPg as Bind),
  moduleBridge('mysql2', 'mysql2', '>=3 <4', { factories: ['createPool'] }, instrumentMysql2 as Bind),
  moduleBridge('mysql2-promise', 'mysql2/promise', '>=3 <4', { factories: ['createPool'] }, instrumentMysql2 as Bind),
  moduleBridge('generic-pool', 'generic-pool', '>=3 <4', { factories: ['createPool'] }, instrumentGenericPool as Bind),
  moduleBridge('tarn', 'tarn', '>=3 <4', { classes: ['Pool'] }, instrumentTarn as Bind),
  moduleBridge('undici', 'undici', '>=6.15 <8', { classes: ['Pool', 'Agent'] }, instrumentUndici as Bind),
]);

/** One zero-code description: which exports of `moduleName` to replace, and the bridge they call. */
function moduleBridge(
  name: string,
  moduleName: string,
  versions: string,
  exports: { classes?: string[]; factories?: string[] },
  bind: Bind,
): ModuleBridge {
  return {
    name,
    moduleName,
    supportedVersions: [versions],
    patch: (moduleExports: unknown) => patchExports(name, moduleExports, exports.classes ?? [], exports.factories ?? [], bind),
    unpatch: unpatchExports,
  };
}
