import type { Pool as PgPool } from 'pg';
import { contain, reportOnce, shadowMethod } from '@otelkit/core';
import { DbPoolMetrics, secondsSince, type AcquireOutcome } from './db-pool-metrics.js';
import { bindOnce, choosePoolName, createPoolHandle, databasePoolName, isEmitter, isObject, poolNameReleaser, rejectArgument, undoIfBindFails } from './pool-handle.js';

import type { PoolBridgeOptions, PoolCounts, PoolHandle } from './types.js';

/** Options of {@link instrumentPg}. */
export type PgPoolBridgeOptions = PoolBridgeOptions;

interface PgPoolShape extends NodeJS.EventEmitter {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { max?: number; host?: string; port?: number | string; database?: string; user?: string; connectionString?: string };
  connect(...args: unknown[]): unknown;
}

type PgConnectCallback = (error: unknown, client: unknown, done: unknown) => unknown;

function isPgPool(value: unknown): value is PgPoolShape {
  return (
    isEmitter(value) &&
    typeof (value as Partial<PgPoolShape>).totalCount === 'number' &&
    typeof (value as Partial<PgPoolShape>).idleCount === 'number' &&
    typeof (value as Partial<PgPoolShape>).waitingCount === 'number' &&
    isObject((value as Partial<PgPoolShape>).options) &&
    typeof (value as Partial<PgPoolShape>).connect === 'function'
  );
}

/**
 * pg's default name: host, port and database as pg resolves them (the connection string over the
 * options, then the PG* environment). A connection string that does not parse is reported once and
 * the other options name the pool.
 */
function pgPoolName(options: PgPoolShape['options']): string | undefined {
  let host: unknown;
  let port: unknown;
  let database: unknown;
  if (typeof options.connectionString === 'string') {
    try {
      const url = new URL(options.connectionString);
      host = url.hostname || undefined;
      port = url.port || undefined;
      database = url.pathname.replace(/^\//, '') || undefined;
    } catch {
      reportOnce('pool.pg.connection-string', 'a pg pool connectionString could not be parsed as a URL; its name comes from its other options (host, port, database)');
    }
  }
  host ??= options.host;
  port ??= options.port;
  database ??= options.database;
  host ??= process.env.PGHOST ?? 'localhost';
  port ??= process.env.PGPORT ?? 5432;
  database ??= process.env.PGDATABASE ?? options.user ?? process.env.PGUSER;
  return databasePoolName(host, port, database);
}

function isPgTimeout(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return message.includes('timeout exceeded when trying to connect') || message.includes('connection timeout');
}

/**
 * Bridges a `pg.Pool` (pg-pool 3) to the `db.client.connection.*` metrics.
 *
 * Counts come from `totalCount`, `idleCount`, `waitingCount` and `options.max` at collection time.
 * `use_time` comes from the pool's `acquire`/`release` events; `wait_time` and `timeouts` from a
 * pass-through wrapper on this pool's `connect` (pg has no "acquire requested" event), removed by
 * `unbind()`. `create_time` is not reported (pg has no event at the start of a connect).
 *
 * @example
 * const pool = new pg.Pool({ max: 10 });
 * const handle = instrumentPg(pool);
 * // … later
 * handle.unbind();
 */
export function instrumentPg(pool: PgPool, options: PgPoolBridgeOptions = {}): PoolHandle {
  if (!isPgPool(pool)) return rejectArgument('pg', 'expected a pg.Pool (pg 8 / pg-pool 3)');
  return bindOnce(pool, () => bindPg(pool, options), options.poolName, ['end']);
}

function readPg(pool: PgPoolShape): PoolCounts {
  const idle = pool.idleCount;
  return { used: pool.totalCount - idle, idle, pending: pool.waitingCount, max: pool.options.max };
}

function bindPg(pool: PgPoolShape, options: PgPoolBridgeOptions): PoolHandle {
  const poolName = choosePoolName(options.poolName, () => pgPoolName(pool.options), 'pg');
  const metrics = new DbPoolMetrics({ poolName, library: 'pg', seesTimeouts: true, seesAcquires: true }, pool, readPg, poolNameReleaser(poolName));

  const lentAt = new WeakMap<object, number>();
  const onAcquire = contain('pool.pg.acquire', (client: object) => {
    lentAt.set(client, performance.now());
  });
  const onRelease = contain('pool.pg.release', (_error: unknown, client: object) => {
    const start = lentAt.get(client);
    if (start === undefined) return;
    lentAt.delete(client);
    metrics.recordUseTime(secondsSince(start));
  });
  pool.on('acquire', onAcquire);
  pool.on('release', onRelease);
  undoIfBindFails(() => {
    pool.removeListener('acquire', onAcquire);
    pool.removeListener('release', onRelease);
  });

  const outcomeOf = (error: unknown): AcquireOutcome => (error ? (isPgTimeout(error) ? 'timeout' : 'failed') : 'acquired');
  const restoreConnect = shadowMethod<(...args: unknown[]) => unknown>(pool, 'connect', (original, isActive) =>
    function otelkitPgConnect(this: unknown, ...args: unknown[]): unknown {
      if (!isActive()) return original.apply(this, args);
      const token = metrics.acquireStarted();
      const callback = args[0];
      if (typeof callback === 'function') {
        return original.call(this, (error: unknown, client: unknown, done: unknown) => {
          metrics.acquireEnded(token, outcomeOf(error));
          return (callback as PgConnectCallback)(error, client, done);
        });
      }
      const result = original.apply(this, args);
      if (isObject(result) && typeof result.then === 'function') {
        // The caller gets the chained promise: same value, same rejection, still unhandled if they ignore it.
        return (result as unknown as PromiseLike<unknown>).then(
          (client) => {
            metrics.acquireEnded(token, 'acquired');
            return client;
          },
          (error: unknown) => {
            metrics.acquireEnded(token, outcomeOf(error));
            throw error;
          },
        );
      }
      metrics.acquireEnded(token, 'failed');
      return result;
    },
  );

  return createPoolHandle(
    poolName,
    () => {
      restoreConnect();
      pool.removeListener('acquire', onAcquire);
      pool.removeListener('release', onRelease);
      metrics.close();
    },
    () => metrics.snapshot(),
  );
}
