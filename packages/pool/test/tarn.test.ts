import { describe, expect, it } from 'vitest';
import knexFactory from 'knex';
import { Pool as TarnPool } from 'tarn';
import { instrumentKnex, instrumentTarn } from '../src/index.js';
import {
  POOL_NAME,
  STATE,
  setUpPoolTelemetry,
  histogramOf,
  listenerCounts,
  valueOf,
  waitFor,
  PG_CONNECTION,
} from './helpers.js';

const connection = PG_CONNECTION;
const { reader, diagnostics } = setUpPoolTelemetry();

const TARN_EVENTS = ['acquireRequest', 'acquireSuccess', 'acquireFail', 'release', 'createRequest', 'createSuccess', 'createFail'];

describe('instrumentKnex (tarn) on a real PostgreSQL', () => {
  it('used = 3, pending = 7, idle = 0 under 10 slow queries, then used = 0; wait, use and create times', async () => {
    const db = knexFactory({ client: 'pg', connection, pool: { min: 0, max: 3 } });
    const handle = instrumentKnex(db);
    expect(handle.poolName).toBe('127.0.0.1:5432/test');
    const match = { [POOL_NAME]: '127.0.0.1:5432/test' };
    const pool = db.client.pool as TarnPool<unknown>;
    const queries = Array.from({ length: 10 }, () => db.raw('select pg_sleep(0.4)').then((result) => result));
    await waitFor(() => pool.numUsed() === 3 && pool.numPendingAcquires() === 7, 10_000, 'tarn saturation');
    const during = await reader.metrics();
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(3);
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(0);
    expect(valueOf(during, 'db.client.connection.pending_requests', match)).toBe(7);
    expect(valueOf(during, 'db.client.connection.max', match)).toBe(3);
    await Promise.all(queries);
    const after = await reader.metrics();
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(0);
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(3);
    expect(valueOf(after, 'db.client.connection.pending_requests', match)).toBe(0);
    const wait = histogramOf(after, 'db.client.connection.wait_time', match);
    expect(wait?.count).toBe(10);
    expect(wait?.max).toBeGreaterThanOrEqual(0.39);
    expect(wait?.max).toBeLessThan(20);
    expect(histogramOf(after, 'db.client.connection.use_time', match)?.count).toBe(10);
    expect(histogramOf(after, 'db.client.connection.use_time', match)?.min).toBeGreaterThanOrEqual(0.39);
    const create = histogramOf(after, 'db.client.connection.create_time', match);
    expect(create?.count).toBe(3);
    expect(create?.min).toBeGreaterThan(0);
    handle.unbind();
    await db.destroy();
  });

  it('counts acquire timeouts', async () => {
    const db = knexFactory({ client: 'pg', connection, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 150, log: { warn() {} } });
    const handle = instrumentKnex(db, { poolName: 'knex-timeouts' });
    const trx = await db.transaction();
    await expect(db.raw('select 1')).rejects.toThrow(/timeout/i);
    expect(valueOf(await reader.metrics(), 'db.client.connection.timeouts', { [POOL_NAME]: 'knex-timeouts' })).toBe(1);
    await trx.rollback();
    handle.unbind();
    await db.destroy();
  });
});

describe('instrumentTarn safety', () => {
  const makePool = () => new TarnPool({ create: async () => ({}), destroy: () => {}, min: 0, max: 2 });

  it('unbind leaves tarn listener counts exactly as before; binding twice is harmless', async () => {
    const pool = makePool();
    const emitter = (pool as unknown as { emitter: NodeJS.EventEmitter }).emitter;
    const before = listenerCounts(emitter, TARN_EVENTS);
    const handle = instrumentTarn(pool, { poolName: 'tarn-safety' });
    expect(instrumentTarn(pool)).toBe(handle);
    expect(emitter.listenerCount('acquireRequest')).toBe(1);
    const resource = await pool.acquire().promise;
    pool.release(resource);
    handle.unbind();
    expect(listenerCounts(emitter, TARN_EVENTS)).toEqual(before);
    await pool.destroy();
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, {}, 'tarn']) expect(instrumentTarn(bad as never).bound).toBe(false);
    expect(instrumentKnex({} as never).bound).toBe(false);
    expect(diagnostics.filter((line) => line.includes('tarn pool bridge'))).toHaveLength(1);
    expect(diagnostics.filter((line) => line.includes('knex pool bridge'))).toHaveLength(1);
  });
});
