import { createHandle, noopHandle, reportOnce } from '@otelkit/core';
import type { PoolHandle, PoolSnapshot } from './types.js';

const EMPTY: PoolSnapshot = Object.freeze({});

/** A pool handle that is bound to nothing: what a bridge returns for a bad argument. */
export function noopPoolHandle(): PoolHandle {
  return Object.assign(noopHandle(), { poolName: '', snapshot: () => EMPTY });
}

/** Builds a bound pool handle around `release` (run once) and `read`. */
export function createPoolHandle(poolName: string, release: () => void, read: () => PoolSnapshot): PoolHandle {
  const handle = createHandle(release, (error) =>
    reportOnce(`pool.unbind.${poolName}`, `unbinding pool "${poolName}" failed: ${String(error)}`),
  );
  return {
    get bound() {
      return handle.bound;
    },
    unbind: handle.unbind,
    [Symbol.dispose]: handle.unbind,
    poolName,
    snapshot: () => {
      if (!handle.bound) return EMPTY;
      try {
        return read();
      } catch {
        return EMPTY;
      }
    },
  };
}

const handles = new WeakMap<object, PoolHandle>();

/**
 * Binds `pool` once: a second call while the first handle is still bound returns that handle
 * (so binding twice is harmless and zero-code plus manual binding do not double-count).
 */
export function bindOnce(pool: object, bind: () => PoolHandle): PoolHandle {
  const existing = handles.get(pool);
  if (existing?.bound) return existing;
  const handle = bind();
  if (handle.bound) handles.set(pool, handle);
  return handle;
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
