import { describe, expect, it } from 'vitest';
import genericPool from 'generic-pool';
import { instrumentGenericPool, poolReadinessCheck } from '../src/index.js';
import {
  POOL_NAME,
  STATE,
  setUpPoolTelemetry,
  histogramOf,
  listenerCounts,
  valueOf,
  waitFor,
} from './helpers.js';

const { reader, diagnostics } = setUpPoolTelemetry();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let created = 0;
const factory = {
  create: async () => {
    await sleep(5);
    return { id: ++created };
  },
  destroy: async () => {},
};

describe('instrumentGenericPool', () => {
  it('used = 3, pending = 7, idle = 0 under 10 concurrent uses, then used = 0; wait and use times', async () => {
    const pool = genericPool.createPool(factory, { max: 3 });
    const handle = instrumentGenericPool(pool, { poolName: 'gp-saturation' });
    const match = { [POOL_NAME]: 'gp-saturation' };
    const uses = Array.from({ length: 10 }, () => pool.use(() => sleep(200)));
    await waitFor(() => pool.borrowed === 3 && pool.pending === 7, 10_000, 'generic-pool saturation');
    const during = await reader.metrics();
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(3);
    expect(valueOf(during, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(0);
    expect(valueOf(during, 'db.client.connection.pending_requests', match)).toBe(7);
    expect(valueOf(during, 'db.client.connection.utilization', match)).toBe(1);
    expect(await poolReadinessCheck(handle)()).toMatchObject({ ready: false });
    await Promise.all(uses);
    const after = await reader.metrics();
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(0);
    expect(valueOf(after, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(3);
    const wait = histogramOf(after, 'db.client.connection.wait_time', match);
    expect(wait?.count).toBe(10);
    expect(wait?.max).toBeGreaterThanOrEqual(0.19);
    const use = histogramOf(after, 'db.client.connection.use_time', match);
    expect(use?.count).toBe(10);
    expect(use?.min).toBeGreaterThanOrEqual(0.19);
    expect(await poolReadinessCheck(handle)()).toMatchObject({ ready: true });
    handle.unbind();
    await pool.drain();
    await pool.clear();
  });

  it('counts acquire timeouts and keeps the rejection for the caller', async () => {
    const pool = genericPool.createPool(factory, { max: 1, acquireTimeoutMillis: 100 });
    const handle = instrumentGenericPool(pool, { poolName: 'gp-timeouts' });
    const held = await pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(valueOf(await reader.metrics(), 'db.client.connection.timeouts', { [POOL_NAME]: 'gp-timeouts' })).toBe(1);
    await pool.release(held);
    handle.unbind();
    await pool.drain();
    await pool.clear();
  });

  it('unbind restores acquire/release/destroy and listener counts; binding twice is harmless', async () => {
    const pool = genericPool.createPool(factory, { max: 2 });
    const before = listenerCounts(pool, ['factoryCreateError', 'factoryDestroyError', 'error']);
    const handle = instrumentGenericPool(pool);
    expect(handle.poolName).toMatch(/^generic-pool/);
    expect(instrumentGenericPool(pool)).toBe(handle);
    const resource = await pool.acquire();
    await pool.release(resource);
    handle.unbind();
    for (const method of ['acquire', 'release', 'destroy']) expect(Object.hasOwn(pool, method)).toBe(false);
    expect(listenerCounts(pool, ['factoryCreateError', 'factoryDestroyError', 'error'])).toEqual(before);
    await pool.drain();
    await pool.clear();
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, {}, factory]) expect(instrumentGenericPool(bad as never).bound).toBe(false);
    expect(diagnostics.filter((line) => line.includes('generic-pool pool bridge'))).toHaveLength(1);
  });
});
