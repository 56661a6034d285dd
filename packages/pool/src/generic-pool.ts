import type { Pool as GenericPool } from 'generic-pool';
import { DbPoolMetrics, secondsSince } from './db-pool-metrics.js';
import { shadowMethod } from '@otelkit/core';
import { bindOnce, choosePoolName, createPoolHandle, isEmitter, isObject, isTimeoutError, poolNameReleaser, rejectArgument, undoIfBindFails } from './pool-handle.js';
import type { PoolBridgeOptions, PoolCounts, PoolHandle } from './types.js';

/** Options of {@link instrumentGenericPool}. */
export type GenericPoolBridgeOptions = PoolBridgeOptions;

interface GenericPoolShape extends NodeJS.EventEmitter {
  readonly size: number;
  readonly available: number;
  readonly borrowed: number;
  readonly pending: number;
  readonly max: number;
  acquire(...args: unknown[]): unknown;
  release(...args: unknown[]): unknown;
  destroy(...args: unknown[]): unknown;
}

function isGenericPool(value: unknown): value is GenericPoolShape {
  if (!isEmitter(value)) return false;
  const pool = value as Partial<GenericPoolShape>;
  return (
    typeof pool.available === 'number' &&
    typeof pool.borrowed === 'number' &&
    typeof pool.pending === 'number' &&
    typeof pool.max === 'number' &&
    typeof pool.acquire === 'function' &&
    typeof pool.release === 'function' &&
    typeof pool.destroy === 'function'
  );
}

/**
 * Bridges a generic-pool 3 pool (`genericPool.createPool(factory, opts)`) to the
 * `db.client.connection.*` metrics.
 *
 * Counts come from `borrowed`, `available`, `pending` and `max` at collection time. generic-pool
 * emits no acquire events, so `wait_time`, `timeouts` (`TimeoutError` from `acquireTimeoutMillis`)
 * and `use_time` come from pass-through wrappers on this pool's `acquire`, `release` and `destroy`
 * (own properties on the instance, removed by `unbind()`). `create_time` is not reported.
 * `min` is a floor on all resources, not on idle ones, so `idle.min` is not reported either.
 *
 * @example
 * const pool = genericPool.createPool(factory, { max: 10, acquireTimeoutMillis: 1000 });
 * const handle = instrumentGenericPool(pool, { poolName: 'blocks' });
 * // … later
 * handle.unbind();
 */
export function instrumentGenericPool<T>(pool: GenericPool<T>, options: GenericPoolBridgeOptions = {}): PoolHandle {
  if (!isGenericPool(pool)) return rejectArgument('generic-pool', 'expected a generic-pool 3 Pool (from createPool)');
  return bindOnce(pool, () => bindGenericPool(pool, options), options.poolName, ['clear']);
}

// Module-level: a reader made inside the bind function would share its context, and so hold the pool.
function readGenericPool(p: GenericPoolShape): PoolCounts {
  return { used: p.borrowed, idle: p.available, pending: p.pending, max: p.max };
}

function bindGenericPool(pool: GenericPoolShape, options: GenericPoolBridgeOptions): PoolHandle {
  const poolName = choosePoolName(options.poolName, () => undefined, 'generic-pool');
  const metrics = new DbPoolMetrics({ poolName, library: 'generic-pool', seesTimeouts: true, seesAcquires: true }, pool, readGenericPool, poolNameReleaser(poolName));
  // Weak: a resource the app never returns (leaked, or dropped by drain()/clear()) must not be kept alive by us.
  const lentAt = new WeakMap<object, number>();

  const restoreAcquire = shadowMethod<(...args: unknown[]) => unknown>(pool, 'acquire', (original, isActive) =>
    function otelkitGenericPoolAcquire(this: unknown, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      if (!isActive() || !isObject(result) || typeof result.then !== 'function') return result;
      const token = metrics.acquireStarted();
      // The caller gets the chained promise: same value, same rejection, still unhandled if they ignore it.
      return (result as unknown as PromiseLike<unknown>).then(
        (resource) => {
          metrics.acquireEnded(token, 'acquired');
          if (isObject(resource)) lentAt.set(resource, performance.now());
          return resource;
        },
        (error: unknown) => {
          metrics.acquireEnded(token, isTimeoutError(error) ? 'timeout' : 'failed');
          throw error;
        },
      );
    },
  );
  const giveBack = (original: (...args: unknown[]) => unknown, isActive: () => boolean) =>
    function otelkitGenericPoolGiveBack(this: unknown, ...args: unknown[]): unknown {
      if (isActive()) {
        const start = isObject(args[0]) ? lentAt.get(args[0]) : undefined;
        if (start !== undefined && isObject(args[0])) {
          lentAt.delete(args[0]);
          try {
            metrics.recordUseTime(secondsSince(start));
          } catch {
            // recording never breaks release
          }
        }
      }
      return original.apply(this, args);
    };
  undoIfBindFails(restoreAcquire);
  const restoreRelease = shadowMethod(pool, 'release', giveBack);
  undoIfBindFails(restoreRelease);
  const restoreDestroy = shadowMethod(pool, 'destroy', giveBack);

  return createPoolHandle(
    poolName,
    () => {
      restoreAcquire();
      restoreRelease();
      restoreDestroy();
      metrics.close();
    },
    () => metrics.snapshot(),
  );
}
