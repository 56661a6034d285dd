import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { instrumentGenericPool, instrumentKnex, instrumentPg, poolModuleBridges } from '../src/index.js';
import { PG_CONNECTION, POOL_NAME, STATE, setUpPoolTelemetry, histogramOf, valueOf } from './helpers.js';

// The preload hands `patch` the module's CommonJS exports (or an ESM namespace): these are the real ones.
const require = createRequire(import.meta.url);
const { reader, diagnostics } = setUpPoolTelemetry();

const bridge = (name: string) => {
  const found = poolModuleBridges.find((entry) => entry.name === name);
  if (!found) throw new Error(`no bridge ${name}`);
  return found;
};
type Exports = Record<string, unknown>;
const connection = PG_CONNECTION;

describe('poolModuleBridges', () => {
  it('describes each library by module name, with supported versions', () => {
    expect(poolModuleBridges.map((entry) => entry.moduleName)).toEqual([
      'pg',
      'mysql2',
      'mysql2/promise',
      'generic-pool',
      'tarn',
      'undici',
    ]);
    for (const entry of poolModuleBridges) expect(entry.supportedVersions.length).toBeGreaterThan(0);
  });

  it('pg: a Pool created by app code after patch is bridged and named host:port/database', async () => {
    const pg = require('pg') as Exports & { Pool: new (options: object) => { query(sql: string): Promise<unknown>; end(): Promise<void> } };
    const Original = pg.Pool;
    expect(bridge('pg').patch(pg, '8.23.1')).toBe(pg);
    expect(pg.Pool).not.toBe(Original);
    const pool = new pg.Pool({ ...connection, max: 2 });
    expect(pool).toBeInstanceOf(Original);
    await pool.query('select 1');
    const metrics = await reader.metrics();
    const match = { [POOL_NAME]: '127.0.0.1:5432/test' };
    expect(valueOf(metrics, 'db.client.connection.max', match)).toBe(2);
    expect(valueOf(metrics, 'db.client.connection.count', { ...match, [STATE]: 'idle' })).toBe(1);
    expect(histogramOf(metrics, 'db.client.connection.wait_time', match)?.count).toBe(1);
    expect(bridge('pg').patch(pg, '8.23.1')).toBe(pg);
    expect(Object.getPrototypeOf(pg.Pool)).toBe(Original);
    bridge('pg').unpatch?.(pg);
    expect(pg.Pool).toBe(Original);
    await pool.end();
    // The zero-code handle (returned again by an explicit call) frees the name on unbind.
    instrumentPg(pool as never).unbind();
  });

  it('pg: a pool the app ends is unbound, so pools made and ended on the fly reuse one name', async () => {
    const pg = require('pg') as Exports & { Pool: new (options: object) => { query(sql: string): Promise<unknown>; end(): Promise<void> } };
    const Original = pg.Pool;
    bridge('pg').patch(pg, '8.23.1');
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pool = new pg.Pool({ ...connection, max: 1 });
      await pool.query('select 1');
      names.push(instrumentPg(pool as never).poolName);
      await pool.end();
      // Ended: unbound, and the pass-through `end` is gone from the instance.
      expect(Object.prototype.hasOwnProperty.call(pool, 'end')).toBe(false);
    }
    expect(names).toEqual(['127.0.0.1:5432/test', '127.0.0.1:5432/test', '127.0.0.1:5432/test']);
    bridge('pg').unpatch?.(pg);
    expect(pg.Pool).toBe(Original);
  });

  it('mysql2 and mysql2/promise: createPool returns bridged pools', async () => {
    const mysql = require('mysql2') as Exports & { createPool(options: object): { end(cb: () => void): void } };
    const mysqlPromise = require('mysql2/promise') as Exports & {
      createPool(options: object): { query(sql: string): Promise<unknown>; end(): Promise<void> };
    };
    const originalCallback = mysql.createPool;
    bridge('mysql2').patch(mysql, '3.24.6');
    bridge('mysql2-promise').patch(mysqlPromise, '3.24.6');
    const options = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test', connectionLimit: 4 };
    const promisePool = mysqlPromise.createPool(options);
    await promisePool.query('SELECT 1');
    const callbackPool = mysql.createPool({ ...options, port: 3306, database: 'mysql', connectionLimit: 5 });
    const metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: '127.0.0.1:3306/test' })).toBe(4);
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: '127.0.0.1:3306/mysql' })).toBe(5);
    bridge('mysql2').unpatch?.(mysql);
    bridge('mysql2-promise').unpatch?.(mysqlPromise);
    expect(mysql.createPool).toBe(originalCallback);
    await promisePool.end();
    await new Promise<void>((resolve) => callbackPool.end(() => resolve()));
  });

  it('generic-pool: createPool returns a bridged pool, also through an ESM namespace (patches `default`)', async () => {
    const genericPool = require('generic-pool') as Exports & {
      createPool(factory: object, options: object): { max: number; drain(): Promise<void>; clear(): Promise<void> };
    };
    const namespace = (await import('generic-pool')) as unknown as Exports;
    expect(() => bridge('generic-pool').patch(namespace, '3.9.0')).not.toThrow();
    // A real ESM namespace is read-only: only its `default` (the CommonJS exports) can change.
    expect((namespace.default as Exports).createPool).toBe(genericPool.createPool);
    const pool = genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 7 });
    const metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: 'generic-pool' })).toBe(7);
    // The app names the automatically bound pool: it is re-bound under that name, once.
    const named = instrumentGenericPool(pool as never, { poolName: 'blocks' });
    expect(named.poolName).toBe('blocks');
    expect(instrumentGenericPool(pool as never, { poolName: 'other' })).toBe(named);
    expect(valueOf(await reader.metrics(), 'db.client.connection.max', { [POOL_NAME]: 'blocks' })).toBe(7);
    bridge('generic-pool').unpatch?.(namespace);
    await pool.drain();
    await pool.clear();
  });

  it('tarn: knex loaded after the patch builds a bridged pool', async () => {
    const tarn = require('tarn') as Exports;
    const Original = tarn.Pool as new (...args: unknown[]) => object;
    bridge('tarn').patch(tarn, '3.1.2');
    expect(tarn.Pool).not.toBe(Original);
    const knexFactory = require('knex') as (config: object) => { raw(sql: string): Promise<unknown>; destroy(): Promise<void>; client: { pool: object } };
    const db = knexFactory({ client: 'pg', connection, pool: { min: 0, max: 6 } });
    await db.raw('select 1');
    expect(db.client.pool).toBeInstanceOf(Original);
    const metrics = await reader.metrics();
    expect(valueOf(metrics, 'db.client.connection.max', { [POOL_NAME]: 'tarn' })).toBe(6);
    expect(histogramOf(metrics, 'db.client.connection.create_time', { [POOL_NAME]: 'tarn' })?.count).toBe(1);
    // instrumentKnex renames the automatically bound knex pool after its connection.
    const knexHandle = instrumentKnex(db as never);
    expect(knexHandle.poolName).toBe('127.0.0.1:5432/test');
    // A second pool to the same database gets a distinct name instead of overwriting the first one's gauges.
    const Pg = (require('pg') as { Pool: new (options: object) => { end(): Promise<void> } }).Pool;
    const other = new Pg({ ...connection, max: 1 });
    const otherHandle = instrumentPg(other as never);
    expect(otherHandle.poolName).toBe('127.0.0.1:5432/test#2');
    otherHandle.unbind();
    await other.end();
    knexHandle.unbind();
    bridge('tarn').unpatch?.(tarn);
    expect(tarn.Pool).toBe(Original);
    await db.destroy();
  });

  it('undici: Pool and Agent created after the patch are bridged', async () => {
    const undici = require('undici') as Exports & {
      Pool: new (origin: string, options: object) => { close(): Promise<void> };
      Agent: new (options: object) => { close(): Promise<void> };
    };
    const OriginalPool = undici.Pool;
    bridge('undici').patch(undici, '7.30.2');
    const pool = new undici.Pool('http://127.0.0.1:9', { connections: 2 });
    const agent = new undici.Agent({});
    expect(pool).toBeInstanceOf(OriginalPool);
    const metrics = await reader.metrics();
    expect(valueOf(metrics, 'http.client.queued_requests', { 'server.address': '127.0.0.1', 'server.port': 9 })).toBe(0);
    bridge('undici').unpatch?.(undici);
    expect(undici.Pool).toBe(OriginalPool);
    await pool.close();
    await agent.close();
  });

  it('patch never throws on odd exports and reports once', () => {
    for (const entry of poolModuleBridges) {
      for (const odd of [null, undefined, 1, 'x', {}, Object.freeze({ Pool: class {}, createPool() {} })]) {
        expect(() => entry.patch(odd, undefined)).not.toThrow();
        expect(() => entry.unpatch?.(odd)).not.toThrow();
      }
    }
    expect(diagnostics.filter((line) => line.includes('pg: found nothing to patch'))).toHaveLength(1);
  });
});
