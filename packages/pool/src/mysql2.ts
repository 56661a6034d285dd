import type { Pool as Mysql2Pool } from 'mysql2';
import type { Pool as Mysql2PromisePool } from 'mysql2/promise';
import { DbPoolMetrics } from './db-pool-metrics.js';
import { shadowMethod } from '@otelkit/core';
import { bindOnce, choosePoolName, createPoolHandle, databasePoolName, isEmitter, isObject, poolNameReleaser, rejectArgument } from './pool-handle.js';
import type { PoolBridgeOptions, PoolCounts, PoolHandle } from './types.js';

/** Options of {@link instrumentMysql2}. */
export type Mysql2PoolBridgeOptions = PoolBridgeOptions;

interface QueueShape {
  readonly length: number;
}

// mysql2 has no public pool counters (sidorares/node-mysql2#3434): these private fields are read,
// guarded, and a shape we do not know gets one diagnostic and no binding.
interface Mysql2CorePoolShape extends NodeJS.EventEmitter {
  readonly _allConnections: QueueShape;
  readonly _freeConnections: QueueShape;
  readonly _connectionQueue: QueueShape;
  readonly config: {
    connectionLimit?: number;
    maxIdle?: number;
    connectionConfig?: { host?: string; port?: number; database?: string };
  };
  getConnection(...args: unknown[]): unknown;
}

function isQueue(value: unknown): value is QueueShape {
  return isObject(value) && typeof value.length === 'number';
}

function isCorePool(value: unknown): value is Mysql2CorePoolShape {
  return (
    isEmitter(value) &&
    isQueue((value as Partial<Mysql2CorePoolShape>)._allConnections) &&
    isQueue((value as Partial<Mysql2CorePoolShape>)._freeConnections) &&
    isQueue((value as Partial<Mysql2CorePoolShape>)._connectionQueue) &&
    isObject((value as Partial<Mysql2CorePoolShape>).config) &&
    typeof (value as Partial<Mysql2CorePoolShape>).getConnection === 'function'
  );
}

/** The callback pool behind a callback or promise pool, or undefined for anything else. */
function corePoolOf(pool: unknown): Mysql2CorePoolShape | undefined {
  if (isCorePool(pool)) return pool;
  if (isObject(pool) && isCorePool(pool.pool)) return pool.pool;
  return undefined;
}

/**
 * Bridges a mysql2 pool (`mysql.createPool()` or `mysql2/promise`'s `createPool()`) to the
 * `db.client.connection.*` metrics.
 *
 * Counts come from mysql2's private `_allConnections`, `_freeConnections`, `_connectionQueue` and
 * `config.connectionLimit` / `config.maxIdle` at collection time (mysql2 has no public counters).
 * `wait_time` comes from a pass-through wrapper on the pool's `getConnection` (which `query` and
 * `execute` also go through), removed by `unbind()`. Not reported: `timeouts` (mysql2 pools have no
 * acquire timeout), `use_time` (a connection handed straight to a queued request emits no event),
 * `create_time` (no event at the start of a connect).
 *
 * @example
 * const pool = mysql.createPool({ host: '127.0.0.1', user: 'root', database: 'test', connectionLimit: 10 });
 * const handle = instrumentMysql2(pool);
 * // … later
 * handle.unbind();
 */
export function instrumentMysql2(pool: Mysql2Pool | Mysql2PromisePool, options: Mysql2PoolBridgeOptions = {}): PoolHandle {
  const core = corePoolOf(pool);
  if (!core) return rejectArgument('mysql2', 'expected a mysql2 pool (callback or promise) from mysql2 3.x');
  return bindOnce(core, () => bindMysql2(core, options), options.poolName, ['end']);
}

// Module-level: a reader made inside the bind function would share its context, and so hold the pool.
function readMysql2(p: Mysql2CorePoolShape): PoolCounts {
  const all = p._allConnections.length;
  const idle = p._freeConnections.length;
  const limit = p.config.connectionLimit;
  return {
    used: all - idle,
    idle,
    pending: p._connectionQueue.length,
    ...(typeof limit === 'number' && limit > 0 ? { max: limit } : {}),
    ...(typeof p.config.maxIdle === 'number' ? { idleMax: p.config.maxIdle } : {}),
  };
}

function bindMysql2(pool: Mysql2CorePoolShape, options: Mysql2PoolBridgeOptions): PoolHandle {
  const connection = pool.config.connectionConfig ?? {};
  const poolName = choosePoolName(
    options.poolName,
    () => databasePoolName(connection.host ?? 'localhost', connection.port ?? 3306, connection.database),
    'mysql2',
  );
  const metrics = new DbPoolMetrics({ poolName, library: 'mysql2', seesTimeouts: false, seesAcquires: true }, pool, readMysql2, poolNameReleaser(poolName));

  const ours = new WeakSet<object>();
  const restore = shadowMethod<(...args: unknown[]) => unknown>(pool, 'getConnection', (original, isActive) =>
    function otelkitMysql2GetConnection(this: unknown, ...args: unknown[]): unknown {
      const callback = args[0];
      // mysql2 re-queues a waiting callback through getConnection when a connection dies: already ours.
      if (!isActive() || typeof callback !== 'function' || ours.has(callback)) return original.apply(this, args);
      const token = metrics.acquireStarted();
      const timed = (error: unknown, connection: unknown): unknown => {
        metrics.acquireEnded(token, error ? 'failed' : 'acquired');
        return (callback as (error: unknown, connection: unknown) => unknown)(error, connection);
      };
      ours.add(timed);
      return original.call(this, timed);
    },
  );

  return createPoolHandle(
    poolName,
    () => {
      restore();
      metrics.close();
    },
    () => metrics.snapshot(),
  );
}
