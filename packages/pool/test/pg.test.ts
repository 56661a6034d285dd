import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { instrumentPg, poolReadinessCheck } from '../src/index.js';
import {
  POOL_NAME,
  STATE,
  setUpPoolTelemetry,
  descriptorOf,
  histogramOf,
  listenerCounts,
  valueOf,
  waitFor,
  PG_CONNECTION,
} from './helpers.js';

const connection = PG_CONNECTION;
const { reader, diagnostics } = setUpPoolTelemetry();

describe('instrumentPg on a real PostgreSQL', () => {
  const pool = new pg.Pool({ ...connection, max: 3 });
  let handle: ReturnType<typeof instrumentPg>;
  beforeAll(() => {
    handle = instrumentPg(pool, { poolName: 'pg-saturation' });
  });
  afterAll(async () => {
    handle.unbind();
    await pool.end();
  });

  it('reports used = 3, pending = 7, idle = 0 while 10 slow queries share 3 connections, then used = 0', async () => {
    const match = { [POOL_NAME]: 'pg-saturation' };
    const queries = Array.from({ length: 10 }, () => pool.query('select pg_sleep(0.4)'));
    await waitFor(() => pool.waitingCount === 7 && pool.totalCount === 3, 10_000, 'pg saturation');
    const during = await reader.metrics();
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(3);
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(0);
    expect(valueOf(during, 'db.client.connection.pending_requests', match)).toBe(7);
    expect(valueOf(during, 'db.client.connection.max', match)).toBe(3);
    expect(valueOf(during, 'db.client.connection.utilization', match)).toBe(1);
    expect(descriptorOf(during, 'db.client.connection.count')?.unit).toBe('{connection}');

    const readiness = poolReadinessCheck(handle, { maxUtilization: 0.9 });
    expect(await readiness()).toMatchObject({ ready: false });

    await Promise.all(queries);
    const after = await reader.metrics();
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(0);
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(3);
    expect(valueOf(after, 'db.client.connection.pending_requests', match)).toBe(0);
    expect(await readiness()).toMatchObject({ ready: true });

    const wait = histogramOf(after, 'db.client.connection.wait_time', match);
    expect(wait?.count).toBe(10);
    // 7 of the 10 queries waited for another's pg_sleep(0.4) to end: the longest wait is at least one query long.
    expect(wait?.max).toBeGreaterThanOrEqual(0.39);
    expect(wait?.max).toBeLessThan(20);
    expect(wait?.min).toBeGreaterThanOrEqual(0);
    const use = histogramOf(after, 'db.client.connection.use_time', match);
    expect(use?.count).toBe(10);
    expect(use?.min).toBeGreaterThanOrEqual(0.39);
    expect(descriptorOf(after, 'db.client.connection.wait_time')?.unit).toBe('s');
  });

  it('not ready while a request has waited longer than maxWaitSeconds', async () => {
    const held = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    const waiting = pool.connect();
    const readiness = poolReadinessCheck(handle, { maxUtilization: 1, maxWaitSeconds: 0.05 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const result = await readiness();
    expect(result).toMatchObject({ ready: false });
    expect(JSON.stringify(result)).toContain('waited');
    for (const client of held) client.release();
    (await waiting).release();
  });
});

describe('pg acquire timeouts', () => {
  it('counts a connectionTimeoutMillis timeout, promise and callback style', async () => {
    const pool = new pg.Pool({ ...connection, max: 1, connectionTimeoutMillis: 150 });
    const handle = instrumentPg(pool, { poolName: 'pg-timeouts' });
    const match = { [POOL_NAME]: 'pg-timeouts' };
    expect(valueOf(await reader.metrics(), 'db.client.connection.timeouts', match)).toBe(0);
    const held = await pool.connect();
    await expect(pool.connect()).rejects.toThrow(/timeout/);
    const callbackError = await new Promise<unknown>((resolve) => pool.connect((error) => resolve(error)));
    expect(String(callbackError)).toMatch(/timeout/);
    expect(valueOf(await reader.metrics(), 'db.client.connection.timeouts', match)).toBe(2);
    held.release();
    handle.unbind();
    await pool.end();
  });
});

describe('pg bridge safety', () => {
  it('unbind leaves listener counts and the connect method exactly as before', async () => {
    const pool = new pg.Pool({ ...connection, max: 2 });
    const before = listenerCounts(pool, ['acquire', 'release', 'error', 'connect', 'remove']);
    const handle = instrumentPg(pool);
    expect(handle.bound).toBe(true);
    expect(pool.listenerCount('error')).toBe(0);
    expect(Object.hasOwn(pool, 'connect')).toBe(true);
    await pool.query('select 1');
    handle.unbind();
    expect(listenerCounts(pool, ['acquire', 'release', 'error', 'connect', 'remove'])).toEqual(before);
    expect(Object.hasOwn(pool, 'connect')).toBe(false);
    handle.unbind();
    await pool.end();
  });

  it('binding twice returns the same handle and counts once', async () => {
    const pool = new pg.Pool({ ...connection, max: 2 });
    const first = instrumentPg(pool, { poolName: 'pg-twice' });
    const second = instrumentPg(pool, { poolName: 'pg-twice-other' });
    expect(second).toBe(first);
    await pool.query('select 1');
    const metrics = await reader.metrics();
    expect(histogramOf(metrics, 'db.client.connection.wait_time', { [POOL_NAME]: 'pg-twice' })?.count).toBe(1);
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: 'pg-twice-other' })).toBeUndefined();
    first.unbind();
    await pool.query('select 1');
    // After unbind nothing more is recorded (the SDK keeps reporting the last cumulative points).
    expect(histogramOf(await reader.metrics(), 'db.client.connection.wait_time', { [POOL_NAME]: 'pg-twice' })?.count).toBe(1);
    await pool.end();
  });

  it('names the pool server.address:server.port/db.namespace by default', async () => {
    const pool = new pg.Pool({ ...connection, max: 4 });
    const handle = instrumentPg(pool);
    expect(handle.poolName).toBe('127.0.0.1:5432/test');
    expect(valueOf(await reader.metrics(), 'db.client.connection.max', { [POOL_NAME]: '127.0.0.1:5432/test' })).toBe(4);
    handle.unbind();
    await pool.end();
  });

  it('names the pool as pg connects (the connection string over the options), and says so when the string does not parse', async () => {
    const fromUrl = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', host: 'elsewhere', database: 'other' });
    const urlHandle = instrumentPg(fromUrl);
    expect(urlHandle.poolName).toBe('127.0.0.1:5432/test');
    urlHandle.unbind();
    await fromUrl.end();
    const badUrl = new pg.Pool({ connectionString: 'not a url', host: '127.0.0.1', port: 5432, database: 'test' });
    const badHandle = instrumentPg(badUrl);
    expect(badHandle.poolName).toBe('127.0.0.1:5432/test');
    expect(diagnostics.filter((line) => line.includes('connectionString could not be parsed'))).toHaveLength(1);
    badHandle.unbind();
    await badUrl.end();
  });

  it('a pool that cannot be read is not ready', async () => {
    const pool = new pg.Pool({ ...connection, max: 2 });
    const handle = instrumentPg(pool, { poolName: 'pg-unreadable' });
    const readiness = poolReadinessCheck(handle);
    expect(await readiness()).toMatchObject({ ready: true });
    Object.defineProperty(pool, 'totalCount', { get: () => { throw new Error('torn down'); }, configurable: true });
    expect(await readiness()).toEqual({ ready: false, detail: 'pool pg-unreadable could not be read: Error: torn down' });
    handle.unbind();
    await pool.end();
  });

  it('a bind that fails (a frozen pool) leaves nothing behind: no callback, and its name is free', async () => {
    const frozen = Object.freeze(new pg.Pool({ ...connection, max: 7 }));
    const failed = instrumentPg(frozen, { poolName: 'pg-frozen' });
    expect(failed.bound).toBe(false);
    const pool = new pg.Pool({ ...connection, max: 2 });
    const handle = instrumentPg(pool, { poolName: 'pg-frozen' });
    expect(handle.poolName).toBe('pg-frozen');
    // Only the second pool reports under the name (the frozen one's callback is gone).
    expect(valueOf(await reader.metrics(), 'db.client.connection.max', { [POOL_NAME]: 'pg-frozen' })).toBe(2);
    handle.unbind();
    // A callback left behind by the failed bind would now report the frozen pool's max (7).
    expect(valueOf(await reader.metrics(), 'db.client.connection.max', { [POOL_NAME]: 'pg-frozen' })).toBe(2);
    await pool.end();
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, undefined, 42, {}, new pg.Client(connection)]) {
      const handle = instrumentPg(bad as never);
      expect(handle.bound).toBe(false);
      expect(() => handle.unbind()).not.toThrow();
    }
    expect(diagnostics.filter((line) => line.includes('pg pool bridge'))).toHaveLength(1);
  });
});
