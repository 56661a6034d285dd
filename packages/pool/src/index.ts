/**
 * @otelkit/pool: connection-pool bridges (pg, mysql2, generic-pool, tarn/knex, undici, custom pools)
 * reporting the OpenTelemetry `db.client.connection.*` and `http.client.open_connections` metrics.
 * @packageDocumentation
 */
export { instrumentPg, type PgPoolBridgeOptions } from './pg.js';
export { instrumentMysql2, type Mysql2PoolBridgeOptions } from './mysql2.js';
export { instrumentGenericPool, type GenericPoolBridgeOptions } from './generic-pool.js';
export { instrumentTarn, instrumentKnex, type TarnPoolBridgeOptions } from './tarn.js';
export { instrumentUndici, type UndiciBridgeOptions } from './undici.js';
export { instrumentPool, type CustomPoolBridgeOptions, type CustomPoolHandle } from './custom.js';
export { poolReadinessCheck, type PoolReadinessOptions } from './readiness.js';
export { poolModuleBridges } from './module-bridges.js';
export type { PoolBridgeOptions, PoolCounts, PoolHandle, PoolSnapshot } from './types.js';
