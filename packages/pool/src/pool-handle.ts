import { bindAutomatically, describeError, handleWith, nameClaims, noopHandle, noteNewBinding, reportOnce, reuseBinding, shadowMethod } from '@otelkit/core';
import type { PoolHandle, PoolSnapshot } from './types.js';

// ---- Names ----

/** Pool names: the one identity rule of every bridge (see `nameClaims` in @otelkit/core). */
const poolNames = nameClaims('pool', 'poolName');

/**
 * The semantic-convention default pool name, `server.address:server.port/db.namespace`, from
 * whichever parts are known; undefined when none is.
 */
export function databasePoolName(host: unknown, port: unknown, database: unknown): string | undefined {
  const address = typeof host === 'string' && host !== '' ? host : undefined;
  const portText = typeof port === 'number' || (typeof port === 'string' && port !== '') ? String(port) : undefined;
  const namespace = typeof database === 'string' && database !== '' ? database : undefined;
  if (address === undefined && namespace === undefined) return undefined;
  let name = address ?? '';
  if (portText !== undefined) name += `:${portText}`;
  if (namespace !== undefined) name += `/${namespace}`;
  return name;
}

/** Reserves `wanted` (or the first free `wanted#N`) for a bound pool; see `nameClaims`. */
export function claimPoolName(wanted: string, collisionIsExpected = false): string {
  return poolNames.claim(wanted, { collisionExpected: collisionIsExpected });
}

/** Runs a bind; if it throws, the names it claimed are freed. */
export function withNameClaims<T>(bind: () => T): T {
  return poolNames.withClaims(bind);
}

/** Frees a name taken with {@link claimPoolName}. */
export function releasePoolName(name: string): void {
  poolNames.release(name);
}

/**
 * A function that frees `name`, made here so that it holds nothing but the name: a closure made
 * inside a bridge function would share that function's context, and with it the pool.
 */
export function poolNameReleaser(name: string): () => void {
  return () => poolNames.release(name);
}

/**
 * The explicit name if given, else the derived one, else the library name; reserved with
 * {@link claimPoolName}, so it is unique among bound pools (release it on unbind).
 */
export function choosePoolName(explicit: string | undefined, derived: () => string | undefined, library: string): string {
  if (typeof explicit === 'string' && explicit !== '') return claimPoolName(explicit);
  let name: string | undefined;
  try {
    name = derived();
  } catch {
    name = undefined;
  }
  // Unnamed pools of one library are expected to share the library name: no diagnostic for them.
  return name === undefined ? claimPoolName(library, true) : claimPoolName(name);
}

// ---- Handles and binding ----

const EMPTY: PoolSnapshot = Object.freeze({});

/** A pool handle that is bound to nothing: what a bridge returns for a bad argument. */
export function noopPoolHandle(): PoolHandle {
  return Object.assign(noopHandle(), { poolName: '', snapshot: () => EMPTY });
}

/** Builds a bound pool handle around `release` (run once) and `read`. */
export function createPoolHandle(poolName: string, release: () => void, read: () => PoolSnapshot): PoolHandle {
  const handle: PoolHandle = handleWith(
    () => {
      releasePoolName(poolName);
      release();
    },
    {
      poolName,
      snapshot: (): PoolSnapshot => {
        if (!handle.bound) return EMPTY;
        try {
          return read();
        } catch (error) {
          return { readError: describeError(error) };
        }
      },
    },
    (error) => reportOnce(`pool.unbind.${poolName}`, `unbinding pool "${poolName}" failed: ${describeError(error)}`),
  );
  return handle;
}

const handles = new WeakMap<object, PoolHandle>();

/** What the bind in progress must undo if it throws (a callback registered, a listener added, a method shadowed). */
let undoStack: Array<() => void> | undefined;

/** Registers `undo` to run if the bind in progress throws, so a failed bind leaves nothing behind. */
export function undoIfBindFails(undo: () => void): void {
  undoStack?.push(undo);
}

export { bindAutomatically };

/**
 * Binds `pool` once: a second call while the first handle is still bound returns that handle
 * (so binding twice is harmless and never double-counts). One exception: a pool bound by the
 * zero-code preload is re-bound when the app binds it with an explicit, different `poolName`.
 */
export function bindOnce(pool: object, bind: () => PoolHandle, explicitName?: string, endMethods: readonly string[] = []): PoolHandle {
  // Core's bind-once rule: an explicit, different poolName replaces a zero-code binding.
  const existing = reuseBinding(handles.get(pool), (bound) => typeof explicitName === 'string' && explicitName !== '' && explicitName !== bound.poolName);
  if (existing !== undefined) return existing;
  let handle: PoolHandle;
  const outer = undoStack;
  const undo: Array<() => void> = [];
  undoStack = undo;
  try {
    handle = unbindOnEnd(pool, withNameClaims(bind), endMethods);
  } catch (error) {
    // e.g. a frozen pool whose methods cannot be shadowed: everything the bind did is undone (its name
    // is freed by withNameClaims), nothing is thrown at the app.
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // undoing as much as possible
      }
    }
    reportOnce('pool.bind-failed', `binding a pool failed and it is not observed: ${describeError(error)}`);
    return noopPoolHandle();
  } finally {
    undoStack = outer;
  }
  if (handle.bound) handles.set(pool, noteNewBinding(handle));
  return handle;
}

/**
 * Unbinds `handle` when the app ends the pool (`end()`, `destroy()`, `clear()`… as the library names
 * it): an ended pool reports nothing more and frees its name, so pools created and ended on the fly
 * (never unbound by the preload) neither pile up series nor hold their pools in memory. The wrappers are
 * pass-throughs on the instance and go away on unbind.
 */
function unbindOnEnd(pool: object, handle: PoolHandle, endMethods: readonly string[]): PoolHandle {
  if (!handle.bound || endMethods.length === 0) return handle;
  const restores: Array<() => void> = [];
  const ended: PoolHandle = handleWith(
    () => {
      for (const restore of restores.splice(0)) restore();
      handle.unbind();
    },
    { poolName: handle.poolName, snapshot: () => handle.snapshot() },
  );
  for (const key of endMethods) {
    if (typeof (pool as Record<string, unknown>)[key] !== 'function') continue;
    try {
      restores.push(
        shadowMethod<(...args: unknown[]) => unknown>(pool, key, (original, isActive) =>
          function otelkitPoolEnd(this: unknown, ...args: unknown[]): unknown {
            const result = original.apply(this, args);
            if (isActive()) ended.unbind();
            return result;
          },
        ),
      );
    } catch {
      // A frozen pool: it stays bound until unbind(), as without this.
    }
  }
  return ended;
}

/** Reports a bad argument once per bridge and returns a no-op handle. */
export function rejectArgument(bridge: string, why: string): PoolHandle {
  reportOnce(`pool.${bridge}.bad-argument`, `${bridge} pool bridge: ${why}; nothing is bound (later calls with bad arguments are not reported again)`);
  return noopPoolHandle();
}

/** Whether `value` is an object (or function) we can inspect. */
export function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** Whether `value` has Node EventEmitter's `on`/`removeListener`/`listenerCount`. */
export function isEmitter(value: unknown): value is NodeJS.EventEmitter {
  return (
    isObject(value) &&
    typeof value.on === 'function' &&
    typeof value.removeListener === 'function' &&
    typeof value.listenerCount === 'function'
  );
}

/** Whether `error` is a pool's `TimeoutError` (tarn's keeps the default `name`, so the class name is checked too). */
export function isTimeoutError(error: unknown): boolean {
  if (!isObject(error)) return false;
  const constructorName = isObject(error.constructor) ? error.constructor.name : undefined;
  return error.name === 'TimeoutError' || constructorName === 'TimeoutError';
}
