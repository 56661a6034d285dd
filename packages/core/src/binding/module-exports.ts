import { describeError, reportOnce } from '../diagnostics.js';

const ORIGINAL = Symbol.for('otelkit.replaced-export.original.v1');

type AnyFunction = (...args: never[]) => unknown;
type AnyClass = new (...args: never[]) => object;

/** Whether `value` is one of otelkit's replacements of a module export. */
export function isReplacement(value: unknown): boolean {
  return typeof value === 'function' && ORIGINAL in value;
}

/** Marks `replacement` as standing for `original`: patching it again does nothing, and unpatching puts `original` back. */
function markReplacement<T extends object>(replacement: T, original: unknown): T {
  Object.defineProperty(replacement, ORIGINAL, { value: original });
  return replacement;
}

/**
 * A subclass of an exported class whose constructor hands each instance to `afterConstruct` (and may
 * rewrite the arguments first with `prepareArgs`), while `isActive()`; the subclass keeps the
 * original's name, statics and `instanceof`. Anything `prepareArgs` or `afterConstruct` throws is
 * reported once under `failureKey` and goes no further.
 */
export function constructingSubclass(
  Original: AnyClass,
  hooks: {
    afterConstruct: (instance: object, args: unknown[]) => void;
    prepareArgs?: (args: unknown[]) => unknown[];
    isActive: () => boolean;
    failureKey: string;
  },
): AnyClass {
  const Base = Original as unknown as new (...args: unknown[]) => object;
  const Subclass = class extends Base {
    constructor(...args: unknown[]) {
      let prepared = args;
      const active = hooks.isActive();
      if (active && hooks.prepareArgs) {
        try {
          prepared = hooks.prepareArgs(args);
        } catch (error) {
          reportOnce(hooks.failureKey, `${hooks.failureKey} failed and was ignored: ${describeError(error)}`);
          prepared = args;
        }
      }
      super(...prepared);
      if (!active) return;
      try {
        hooks.afterConstruct(this, args);
      } catch (error) {
        reportOnce(hooks.failureKey, `${hooks.failureKey} failed and was ignored: ${describeError(error)}`);
      }
    }
  };
  Object.defineProperty(Subclass, 'name', { value: Original.name, configurable: true });
  return markReplacement(Subclass as unknown as AnyClass, Original);
}

/** A wrapper of an exported factory that hands each result to `afterCall` while `isActive()` (contained as above). */
export function wrappingFactory(
  original: AnyFunction,
  hooks: { afterCall: (result: unknown, args: unknown[]) => void; isActive: () => boolean; failureKey: string },
): AnyFunction {
  const factory = function (this: unknown, ...args: unknown[]): unknown {
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (hooks.isActive()) {
      try {
        hooks.afterCall(result, args);
      } catch (error) {
        reportOnce(hooks.failureKey, `${hooks.failureKey} failed and was ignored: ${describeError(error)}`);
      }
    }
    return result;
  };
  Object.defineProperty(factory, 'name', { value: original.name, configurable: true });
  return markReplacement(factory, original);
}

/** Sets `target[key] = value` in place: by assignment, else as a data property over a getter. */
function setInPlace(target: Record<string, unknown>, key: string, value: unknown): boolean {
  try {
    target[key] = value;
  } catch {
    // read-only or getter-only: tried below
  }
  if (target[key] === value) return true;
  try {
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
  } catch {
    return false;
  }
  return target[key] === value;
}

/** A copy of `source` with `replacements` in it (for exports that cannot be changed in place). */
function copyWith(source: object, replacements: ReadonlyMap<string, unknown>): object {
  const copy: Record<PropertyKey, unknown> = Object.create(Object.getPrototypeOf(source) as object | null);
  for (const key of Reflect.ownKeys(source)) {
    const value = typeof key === 'string' && replacements.has(key) ? replacements.get(key) : (source as Record<PropertyKey, unknown>)[key];
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

function replaceIn(target: object, keys: readonly string[], make: (original: AnyFunction, key: string) => AnyFunction): { exports: object; replaced: number } {
  const replacements = new Map<string, unknown>();
  const made = new Map<unknown, AnyFunction>();
  for (const key of keys) {
    const original = (target as Record<string, unknown>)[key];
    if (typeof original !== 'function' || isReplacement(original)) continue;
    let replacement = made.get(original);
    if (replacement === undefined) made.set(original, (replacement = make(original as AnyFunction, key)));
    replacements.set(key, replacement);
  }
  let inPlace = true;
  for (const [key, value] of replacements) if (!setInPlace(target as Record<string, unknown>, key, value)) inPlace = false;
  return { exports: inPlace ? target : copyWith(target, replacements), replaced: replacements.size };
}

/**
 * Replaces `keys` of a module's exports, and of its `default` (CommonJS seen from an ES module), by
 * `make(original, key)`: in place where possible (assignment, else a data property over a getter),
 * else on a copy, which is then what the app must get. Exports replaced already are left alone, so
 * patching twice is harmless. Never throws past `make`.
 *
 * @returns the exports to hand to the app, and how many exports were replaced now
 */
export function replaceExports(
  moduleExports: object,
  keys: readonly string[],
  make: (original: AnyFunction, key: string) => AnyFunction,
): { exports: object; replaced: number } {
  const outer = replaceIn(moduleExports, keys, make);
  const inner = (outer.exports as { default?: unknown }).default;
  if (typeof inner !== 'object' || inner === null || inner === outer.exports) return outer;
  const patchedInner = replaceIn(inner, keys, make);
  if (patchedInner.exports === inner) return { exports: outer.exports, replaced: outer.replaced + patchedInner.replaced };
  // The inner exports had to be copied: the outer ones get the copy as their `default`.
  const target = outer.exports as Record<string, unknown>;
  const exports = setInPlace(target, 'default', patchedInner.exports) ? target : copyWith(target, new Map([['default', patchedInner.exports]]));
  return { exports, replaced: outer.replaced + patchedInner.replaced };
}

/** Puts the originals back where otelkit's replacements of `keys` still are (exports and `default`). Never throws. */
export function restoreExports(moduleExports: unknown, keys: readonly string[]): void {
  try {
    for (const target of [moduleExports, (moduleExports as { default?: unknown } | null)?.default]) {
      if (typeof target !== 'object' || target === null) continue;
      for (const key of keys) {
        const current = (target as Record<string, unknown>)[key];
        if (isReplacement(current)) setInPlace(target as Record<string, unknown>, key, (current as unknown as Record<symbol, unknown>)[ORIGINAL]);
      }
    }
  } catch {
    // A restore that cannot happen leaves the replacement in place, inactive.
  }
}
