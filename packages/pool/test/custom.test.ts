import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { instrumentPool, poolReadinessCheck } from '../src/index.js';
import { POOL_NAME, STATE, setUpPoolTelemetry, histogramOf, listenerCounts, valueOf } from './helpers.js';

const { reader, diagnostics } = setUpPoolTelemetry();

/** A hand-written pool like the seeds' BlockPool: numeric counters and timing events. */
class BlockPool extends EventEmitter {
  used = 0;
  pending = 0;
  readonly max: number;
  constructor(max: number) {
    super();
    this.max = max;
  }
  get idle(): number {
    return this.max - this.used;
  }
}

describe('instrumentPool (custom pools)', () => {
  it('reads used/idle/pending/max at collection time and derives utilization', async () => {
    const pool = new BlockPool(4);
    const handle = instrumentPool(pool, { poolName: 'blocks' });
    const match = { [POOL_NAME]: 'blocks' };
    pool.used = 3;
    pool.pending = 2;
    let metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.count', { ...match, [STATE]: 'used' })).toBe(3);
    expect(valueOf(metrics, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(1);
    expect(valueOf(metrics, 'db.client.connection.pending_requests', match)).toBe(2);
    expect(valueOf(metrics, 'db.client.connection.max', match)).toBe(4);
    expect(valueOf(metrics, 'db.client.connection.utilization', match)).toBe(0.75);
    expect(await poolReadinessCheck(handle, { maxUtilization: 0.7 })()).toMatchObject({ ready: false });
    expect(await poolReadinessCheck(handle, { maxUtilization: 0.8 })()).toMatchObject({ ready: true });
    pool.used = 4;
    metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.utilization', match)).toBe(1);
    handle.unbind();
  });

  it('records timings from handle methods and from events, and unbind removes the listeners', async () => {
    const pool = new BlockPool(2);
    const before = listenerCounts(pool, ['wait', 'use', 'create', 'timeout', 'error']);
    const handle = instrumentPool(pool, { poolName: 'blocks-timed', events: true });
    expect(instrumentPool(pool)).toBe(handle);
    const match = { [POOL_NAME]: 'blocks-timed' };
    handle.recordWaitTime(0.02);
    pool.emit('wait', 0.3);
    pool.emit('use', 0.5);
    pool.emit('create', 0.05);
    pool.emit('timeout');
    handle.recordTimeout();
    handle.recordWaitTime(Number.NaN);
    const metrics = await reader.metrics();
    expect(histogramOf(metrics, 'db.client.connection.wait_time', match)).toMatchObject({ count: 2, min: 0.02, max: 0.3 });
    expect(histogramOf(metrics, 'db.client.connection.use_time', match)).toMatchObject({ count: 1, sum: 0.5 });
    expect(histogramOf(metrics, 'db.client.connection.create_time', match)).toMatchObject({ count: 1, sum: 0.05 });
    expect(valueOf(metrics, 'db.client.connection.timeouts', match)).toBe(2);
    handle.unbind();
    expect(listenerCounts(pool, ['wait', 'use', 'create', 'timeout', 'error'])).toEqual(before);
    handle.recordWaitTime(1);
    expect(histogramOf(await reader.metrics(), 'db.client.connection.wait_time', match)?.count).toBe(2);
  });

  it('takes counts from a read function; a count it does not give is left out', async () => {
    const handle = instrumentPool({}, { poolName: 'read-only-used', read: () => ({ used: 5 }) });
    const metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.count', { [POOL_NAME]: 'read-only-used', [STATE]: 'used' })).toBe(5);
    expect(valueOf(metrics, 'db.client.connection.count', { [POOL_NAME]: 'read-only-used', [STATE]: 'idle' })).toBeUndefined();
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: 'read-only-used' })).toBeUndefined();
    expect(valueOf(metrics, 'db.client.connection.utilization', { [POOL_NAME]: 'read-only-used' })).toBeUndefined();
    handle.unbind();
  });

  it('a read that throws at collection time is contained and reported once', async () => {
    let fail = false;
    const handle = instrumentPool({}, { poolName: 'throws', read: () => {
      if (fail) throw new Error('boom');
      return { used: 1 };
    } });
    fail = true;
    await expect(reader.metrics()).resolves.toBeDefined();
    await reader.metrics();
    expect(diagnostics.filter((line) => line.includes('"throws" could not be read'))).toHaveLength(1);
    handle.unbind();
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, 7, { size: 'x' }]) {
      const handle = instrumentPool(bad as never);
      expect(handle.bound).toBe(false);
      expect(() => handle.recordWaitTime(1)).not.toThrow();
    }
    expect(diagnostics.filter((line) => line.includes('custom pool bridge'))).toHaveLength(1);
  });

  it('readiness options are validated at construction', () => {
    const handle = instrumentPool({ used: 0, max: 1 }, { poolName: 'validate' });
    expect(() => poolReadinessCheck(handle, { maxUtilization: 1.5 })).toThrow(RangeError);
    expect(() => poolReadinessCheck(handle, { maxWaitSeconds: -1 })).toThrow(RangeError);
    handle.unbind();
    expect(poolReadinessCheck(handle)()).toMatchObject({ ready: true, detail: 'pool not bound' });
  });
});

describe('a pool that cannot be bound', () => {
  it('gets a no-op handle, no exception, and leaves its name free', async () => {
    const genericPool = (await import('generic-pool')).default;
    const { instrumentGenericPool } = await import('../src/index.js');
    const frozen = Object.freeze(genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 1 }));
    let handle: { bound: boolean; poolName: string } | undefined;
    expect(() => (handle = instrumentGenericPool(frozen, { poolName: 'frozen-pool' }))).not.toThrow();
    expect(handle?.bound).toBe(false);
    const other = genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 1 });
    const otherHandle = instrumentGenericPool(other, { poolName: 'frozen-pool' });
    expect(otherHandle.poolName).toBe('frozen-pool');
    otherHandle.unbind();
    await other.drain();
    await other.clear();
  });
});
