// Per-acquire overhead of @otelkit/pool bridges: sequential acquire + release on a warm pool,
// bare vs bridged (real MeterProvider installed, so histograms really record).
// Run: npx tsc -b packages/core packages/pool && node bench/pool-acquire.mjs   (pg part needs PostgreSQL on 127.0.0.1:5432)
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createOtelkitMetricProducer } from '@otelkit/core';
import genericPool from 'generic-pool';
import tarn from 'tarn';
import pg from 'pg';
import { instrumentGenericPool, instrumentPg, instrumentTarn } from '@otelkit/pool';

class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
// As under @otelkit/node: otelkit's producer on the reader, so bound histograms take the fast path.
const reader = new PullReader({ metricProducers: [createOtelkitMetricProducer()] });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

const ROUNDS = 7;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(label, ops, acquireRelease) {
  for (let i = 0; i < ops; i++) await acquireRelease(); // warm-up
  const perOp = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) await acquireRelease();
    perOp.push(Number(process.hrtime.bigint() - start) / ops);
  }
  return median(perOp);
}

async function compare(name, ops, makeBare, bind) {
  const bare = await makeBare();
  const bareNs = await measure(`${name} bare`, ops, bare.op);
  await bare.close();
  const bridged = await makeBare();
  const handle = bind(bridged.pool);
  const bridgedNs = await measure(`${name} bridged`, ops, bridged.op);
  handle.unbind();
  await bridged.close();
  console.log(
    `${name.padEnd(14)} bare ${bareNs.toFixed(0).padStart(7)} ns/acquire   bridged ${bridgedNs.toFixed(0).padStart(7)} ns/acquire   ` +
      `overhead ${(bridgedNs - bareNs).toFixed(0).padStart(6)} ns   ratio ${(bridgedNs / bareNs).toFixed(2)}x`,
  );
}

const factory = { create: async () => ({}), destroy: async () => {} };

await compare(
  'generic-pool',
  20_000,
  async () => {
    const pool = genericPool.createPool(factory, { max: 4 });
    return {
      pool,
      op: async () => pool.release(await pool.acquire()),
      close: async () => {
        await pool.drain();
        await pool.clear();
      },
    };
  },
  (pool) => instrumentGenericPool(pool, { poolName: 'bench' }),
);

await compare(
  'tarn',
  20_000,
  async () => {
    const pool = new tarn.Pool({ create: async () => ({}), destroy: () => {}, min: 0, max: 4 });
    return {
      pool,
      op: async () => pool.release(await pool.acquire().promise),
      close: () => pool.destroy(),
    };
  },
  (pool) => instrumentTarn(pool, { poolName: 'bench' }),
);

try {
  await compare(
    'pg (idle)',
    10_000,
    async () => {
      const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 2 });
      (await pool.connect()).release();
      return {
        pool,
        op: async () => (await pool.connect()).release(),
        close: () => pool.end(),
      };
    },
    (pool) => instrumentPg(pool, { poolName: 'bench' }),
  );
} catch (error) {
  console.log(`pg skipped: ${error.message}`);
}

const collected = await reader.collect();
const waits = collected.resourceMetrics.scopeMetrics
  .flatMap((scope) => scope.metrics)
  .find((metric) => metric.descriptor.name === 'db.client.connection.wait_time');
console.log(`(sanity: wait_time histograms recorded ${waits?.dataPoints.reduce((sum, point) => sum + point.value.count, 0)} acquires)`);
