import type { Pool as TarnPool } from 'tarn';
import type { Knex } from 'knex';
import { contain } from '@otelkit/core';
import { DbPoolMetrics, secondsSince } from './db-pool-metrics.js';
import { bindOnce, choosePoolName, createPoolHandle, databasePoolName, isObject, isTimeoutError, poolNameReleaser, rejectArgument } from './pool-handle.js';
import type { PoolBridgeOptions, PoolCounts, PoolHandle } from './types.js';

/** Options of {@link instrumentTarn} and {@link instrumentKnex}. */
export type TarnPoolBridgeOptions = PoolBridgeOptions;

type Listener = (...args: never[]) => void;

interface TarnPoolShape {
  readonly max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  on(event: string, listener: Listener): void;
  removeListener(event: string, listener: Listener): void;
}

function isTarnPool(value: unknown): value is TarnPoolShape {
  if (!isObject(value)) return false;
  return (
    typeof value.numUsed === 'function' &&
    typeof value.numFree === 'function' &&
    typeof value.numPendingAcquires === 'function' &&
    typeof value.on === 'function' &&
    typeof value.removeListener === 'function'
  );
}

/**
 * Bridges a tarn 3 pool (what knex uses) to the `db.client.connection.*` metrics, through tarn's
 * own events only: `acquireRequest`/`acquireSuccess`/`acquireFail` (by event id) give `wait_time`
 * and `timeouts`, `acquireSuccess`/`release` give `use_time`, `createRequest`/`createSuccess` give
 * `create_time`. Counts come from `numUsed()`, `numFree()`, `numPendingAcquires()` and `max` at
 * collection time. `min` floors all resources, not idle ones, so `idle.min` is not reported.
 *
 * @example
 * const pool = new tarn.Pool({ create, destroy, min: 0, max: 10 });
 * const handle = instrumentTarn(pool, { poolName: 'jobs' });
 * // … later
 * handle.unbind();
 */
export function instrumentTarn<T>(pool: TarnPool<T>, options: TarnPoolBridgeOptions = {}): PoolHandle {
  if (!isTarnPool(pool)) return rejectArgument('tarn', 'expected a tarn 3 Pool');
  return bindOnce(pool, () => bindTarn(pool, options, () => undefined), options.poolName, ['destroy']);
}

/**
 * Bridges the tarn pool of a knex instance (`knex.client.pool`), named after the knex connection
 * (`host:port/database`) unless `poolName` is given. Call it after the first query if the pool is
 * created lazily (knex creates it at construction when a connection is configured).
 *
 * @example
 * const db = knex({ client: 'pg', connection: { host: '127.0.0.1', database: 'test' }, pool: { max: 10 } });
 * const handle = instrumentKnex(db);
 * // … later
 * handle.unbind();
 */
export function instrumentKnex(knex: Knex, options: TarnPoolBridgeOptions = {}): PoolHandle {
  const client: unknown = isObject(knex) ? knex.client : undefined;
  const pool: unknown = isObject(client) ? client.pool : undefined;
  if (!isTarnPool(pool)) return rejectArgument('knex', 'expected a knex instance with a tarn pool (knex.client.pool)');
  const config: unknown = isObject(client) ? client.config : undefined;
  const connection: unknown = isObject(config) ? config.connection : undefined;
  const derivedName = (): string | undefined =>
    isObject(connection) ? databasePoolName(connection.host ?? 'localhost', connection.port, connection.database) : undefined;
  // A knex pool bound by the zero-code preload is named `tarn`: binding it here renames it after the connection.
  const name = options.poolName ?? derivedName();
  return bindOnce(pool, () => bindTarn(pool, options, derivedName), name, ['destroy']);
}

// Module-level: a reader made inside the bind function would share its context, and so hold the pool.
function readTarn(p: TarnPoolShape): PoolCounts {
  return { used: p.numUsed(), idle: p.numFree(), pending: p.numPendingAcquires(), max: p.max };
}

function bindTarn(pool: TarnPoolShape, options: TarnPoolBridgeOptions, derivedName: () => string | undefined): PoolHandle {
  const poolName = choosePoolName(options.poolName, derivedName, 'tarn');
  const metrics = new DbPoolMetrics({ poolName, library: 'tarn', seesTimeouts: true, seesAcquires: true }, pool, readTarn, poolNameReleaser(poolName));
  const acquires = new Map<number, number>();
  const creates = new Map<number, number>();
  const lentAt = new WeakMap<object, number>();

  const listeners: Record<string, Listener> = {
    acquireRequest: contain('pool.tarn.acquireRequest', (eventId: number) => {
      acquires.set(eventId, metrics.acquireStarted());
    }),
    acquireSuccess: contain('pool.tarn.acquireSuccess', (eventId: number, resource: unknown) => {
      const token = acquires.get(eventId);
      if (token !== undefined) {
        acquires.delete(eventId);
        metrics.acquireEnded(token, 'acquired');
      }
      if (isObject(resource)) lentAt.set(resource, performance.now());
    }),
    acquireFail: contain('pool.tarn.acquireFail', (eventId: number, error: unknown) => {
      const token = acquires.get(eventId);
      if (token === undefined) return;
      acquires.delete(eventId);
      metrics.acquireEnded(token, isTimeoutError(error) ? 'timeout' : 'failed');
    }),
    release: contain('pool.tarn.release', (resource: unknown) => {
      if (!isObject(resource)) return;
      const start = lentAt.get(resource);
      if (start === undefined) return;
      lentAt.delete(resource);
      metrics.recordUseTime(secondsSince(start));
    }),
    createRequest: contain('pool.tarn.createRequest', (eventId: number) => {
      creates.set(eventId, performance.now());
    }),
    createSuccess: contain('pool.tarn.createSuccess', (eventId: number) => {
      const start = creates.get(eventId);
      if (start === undefined) return;
      creates.delete(eventId);
      metrics.recordCreateTime(secondsSince(start));
    }),
    createFail: contain('pool.tarn.createFail', (eventId: number) => {
      creates.delete(eventId);
    }),
  };
  for (const [event, listener] of Object.entries(listeners)) pool.on(event, listener);

  return createPoolHandle(
    poolName,
    () => {
      for (const [event, listener] of Object.entries(listeners)) pool.removeListener(event, listener);
      acquires.clear();
      creates.clear();
      metrics.close();
    },
    () => metrics.snapshot(),
  );
}
