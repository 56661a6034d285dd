import { describe, expect, it } from 'vitest';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { instrumentMysql2 } from '../src/index.js';
import {
  POOL_NAME,
  STATE,
  setUpPoolTelemetry,
  histogramOf,
  listenerCounts,
  valueOf,
  waitFor,
  MYSQL_CONNECTION,
} from './helpers.js';

const connection = MYSQL_CONNECTION;
const { reader, diagnostics } = setUpPoolTelemetry();

interface CorePoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
}

describe('instrumentMysql2 on a real MariaDB', () => {
  it('promise pool: used = 3, pending = 7, idle = 0 under 10 slow queries, then used = 0', async () => {
    const pool = mysqlPromise.createPool({ ...connection, connectionLimit: 3 });
    const handle = instrumentMysql2(pool);
    expect(handle.poolName).toBe('127.0.0.1:3306/test');
    const match = { [POOL_NAME]: '127.0.0.1:3306/test' };
    const core = (pool as unknown as { pool: CorePoolInternals }).pool;
    const queries = Array.from({ length: 10 }, () => pool.query('SELECT SLEEP(0.4)'));
    await waitFor(() => core._connectionQueue.length === 7 && core._allConnections.length === 3, 10_000, 'mysql2 saturation');
    const during = await reader.metrics();
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(3);
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(0);
    expect(valueOf(during, 'db.client.connection.pending_requests', match)).toBe(7);
    expect(valueOf(during, 'db.client.connection.max', match)).toBe(3);
    expect(valueOf(during, 'db.client.connection.idle.max', match)).toBe(3);
    expect(valueOf(during, 'db.client.connection.utilization', match)).toBe(1);
    expect(handle.snapshot()).toMatchObject({ used: 3, idle: 0, pending: 7, max: 3, utilization: 1 });

    await Promise.all(queries);
    const after = await reader.metrics();
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(0);
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(3);
    expect(valueOf(after, 'db.client.connection.pending_requests', match)).toBe(0);
    const wait = histogramOf(after, 'db.client.connection.wait_time', match);
    expect(wait?.count).toBe(10);
    expect(wait?.max).toBeGreaterThanOrEqual(0.39);
    expect(wait?.max).toBeLessThan(20);
    // mysql2 pools have no acquire timeout: the metric is left out, not faked.
    expect(valueOf(after, 'db.client.connection.timeouts', match)).toBeUndefined();
    handle.unbind();
    await pool.end();
  });

  it('callback pool: unbind restores getConnection and listener counts; binding twice is harmless', async () => {
    const pool = mysql.createPool({ ...connection, connectionLimit: 2 });
    const before = listenerCounts(pool, ['acquire', 'release', 'connection', 'enqueue', 'error']);
    const handle = instrumentMysql2(pool, { poolName: 'mysql-callback' });
    expect(instrumentMysql2(pool)).toBe(handle);
    expect(instrumentMysql2(pool.promise())).toBe(handle);
    await new Promise<void>((resolve, reject) => pool.query('SELECT 1', (error) => (error ? reject(error) : resolve())));
    expect(histogramOf(await reader.metrics(), 'db.client.connection.wait_time', { [POOL_NAME]: 'mysql-callback' })?.count).toBe(1);
    handle.unbind();
    expect(Object.hasOwn(pool, 'getConnection')).toBe(false);
    expect(listenerCounts(pool, ['acquire', 'release', 'connection', 'enqueue', 'error'])).toEqual(before);
    await new Promise<void>((resolve) => pool.end(() => resolve()));
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, 'pool', { pool: {} }, mysql.createPoolCluster()]) {
      expect(instrumentMysql2(bad as never).bound).toBe(false);
    }
    expect(diagnostics.filter((line) => line.includes('mysql2 pool bridge'))).toHaveLength(1);
  });
});
