import type { ReadinessCheck, ReadinessResult } from '@otelkit/core';
import type { PoolHandle } from './types.js';

/** Options of {@link poolReadinessCheck}. */
export interface PoolReadinessOptions {
  /**
   * Not ready when `used / max` reaches this (0 to 1). Ignored when the pool's maximum is unknown.
   * @default 0.9
   */
  readonly maxUtilization?: number;
  /**
   * Not ready when the longest-waiting acquire has waited this many seconds. Only for bridges that
   * see acquire requests (pg, mysql2, generic-pool, tarn/knex); ignored for undici and custom pools.
   * @default undefined (no wait limit)
   */
  readonly maxWaitSeconds?: number;
}

/**
 * A readiness check for a bound pool, for `@otelkit/node`'s `addReadinessCheck(name, check)`:
 * not ready while the pool is at or above `maxUtilization`, or while a request has waited longer
 * than `maxWaitSeconds`. An unbound handle counts as ready (there is nothing to judge).
 *
 * @throws RangeError when an option is out of range (configuration error, at construction).
 * @example
 * addReadinessCheck('db-pool', poolReadinessCheck(instrumentPg(pool), { maxUtilization: 0.9, maxWaitSeconds: 2 }));
 */
export function poolReadinessCheck(handle: PoolHandle, options: PoolReadinessOptions = {}): ReadinessCheck {
  const maxUtilization = options.maxUtilization ?? 0.9;
  const { maxWaitSeconds } = options;
  if (!(maxUtilization > 0 && maxUtilization <= 1)) {
    throw new RangeError(`poolReadinessCheck: maxUtilization must be in (0, 1], got ${maxUtilization}`);
  }
  if (maxWaitSeconds !== undefined && !(maxWaitSeconds > 0)) {
    throw new RangeError(`poolReadinessCheck: maxWaitSeconds must be > 0, got ${maxWaitSeconds}`);
  }
  return (): ReadinessResult => {
    if (!handle.bound) return { ready: true, detail: 'pool not bound' };
    const snapshot = handle.snapshot();
    const name = handle.poolName;
    // A pool that cannot be read is not known to be ready.
    if (snapshot.readError !== undefined) return { ready: false, detail: `pool ${name} could not be read: ${snapshot.readError}` };
    const reasons: string[] = [];
    if (snapshot.utilization !== undefined && snapshot.utilization >= maxUtilization) {
      reasons.push(
        `utilization ${snapshot.utilization.toFixed(2)} >= ${maxUtilization} (used ${snapshot.used}/${snapshot.max}, pending ${snapshot.pending ?? 'unknown'})`,
      );
    }
    if (maxWaitSeconds !== undefined && snapshot.oldestWaitSeconds !== undefined && snapshot.oldestWaitSeconds > maxWaitSeconds) {
      reasons.push(`a request has waited ${snapshot.oldestWaitSeconds.toFixed(3)} s > ${maxWaitSeconds} s`);
    }
    if (reasons.length > 0) return { ready: false, detail: `pool ${name}: ${reasons.join('; ')}` };
    return { ready: true, detail: `pool ${name} utilization ${snapshot.utilization?.toFixed(2) ?? 'unknown'}` };
  };
}
