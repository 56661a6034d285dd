import { constructingSubclass, describeError, isReplacement, replaceExports, reportOnce, restoreExports, wrappingFactory, type ModuleBridge } from '@otelkit/core';
import { instrumentGenericPool } from './generic-pool.js';
import { instrumentMysql2 } from './mysql2.js';
import { bindAutomatically, isObject } from './pool-handle.js';
import { instrumentPg } from './pg.js';
import { instrumentTarn } from './tarn.js';
import { instrumentUndici } from './undici.js';

type Bind = (pool: never) => unknown;
type AnyClass = new (...args: never[]) => object;

/** Whether each bridge binds new pools (off after its unpatch: replacements handed out stay, inert). */
const active = new Map<string, boolean>();

/**
 * Patches the named class or factory exports of a module (core's replaceExports: in place, or a copy
 * for read-only exports); never throws. Every pool a replaced class constructs, or a replaced factory
 * returns, is bound automatically.
 */
function patchExports(
  bridge: string,
  moduleExports: unknown,
  classes: readonly string[],
  factories: readonly string[],
  bind: Bind,
): unknown {
  active.set(bridge, true);
  if (!isObject(moduleExports)) {
    reportOnce(`pool.zero-code.${bridge}`, `${bridge}: found nothing to patch in the module exports; its pools are not bridged automatically`);
    return moduleExports;
  }
  const hooks = { isActive: () => active.get(bridge) === true, failureKey: 'pool.zero-code.bind' };
  const bindPool = (pool: unknown): void => void bindAutomatically(() => bind(pool as never));
  try {
    const { exports, replaced } = replaceExports(moduleExports, [...classes, ...factories], (original, key) =>
      classes.includes(key)
        ? (constructingSubclass(original as unknown as AnyClass, { ...hooks, afterConstruct: bindPool }) as unknown as typeof original)
        : wrappingFactory(original, { ...hooks, afterCall: bindPool }),
    );
    const already = [moduleExports, (moduleExports as { default?: unknown }).default].some(
      (target) => isObject(target) && [...classes, ...factories].some((key) => isReplacement(target[key])),
    );
    if (replaced === 0 && !already) {
      reportOnce(`pool.zero-code.${bridge}`, `${bridge}: found nothing to patch in the module exports; its pools are not bridged automatically`);
    }
    return exports;
  } catch (error) {
    reportOnce(`pool.zero-code.${bridge}`, `${bridge}: patching failed and was skipped: ${describeError(error)}`);
    return moduleExports;
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
    unpatch: (moduleExports: unknown) => {
      active.set(name, false);
      restoreExports(moduleExports, [...(exports.classes ?? []), ...(exports.factories ?? [])]);
    },
  };
}
