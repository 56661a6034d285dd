import { addReadinessCheck } from '@otelkit/node';
import { instrumentGenericPool, poolReadinessCheck } from '@otelkit/pool';
import type { Express } from 'express';
import genericPool from 'generic-pool';
import pg from 'pg';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `/pool`: borrows one of 5 simulated connections (generic-pool) for 50–300 ms, so `/metrics` shows
 * pool usage, pending requests and wait times with only Node. `/db` (only when DATABASE_URL is set, as in
 * docker-compose): a real pg query. Both pools are bridged by the preload; the simulated one is named
 * `blocks` and gates readiness (not ready at 90 % utilization or more).
 */
export function addPoolRoutes(app: Express): void {
  let opened = 0;
  const factory = { create: async () => ({ id: ++opened }), destroy: async () => {} };
  const blocks = genericPool.createPool(factory, { max: 5, acquireTimeoutMillis: 2_000 });
  addReadinessCheck('pool:blocks', poolReadinessCheck(instrumentGenericPool(blocks, { poolName: 'blocks' })));
  app.get('/pool', async (_req, res) => {
    const ms = 50 + Math.floor(Math.random() * 250);
    await blocks.use(() => sleep(ms));
    res.json({ ok: true, heldMs: ms });
  });
  if (!process.env.DATABASE_URL) return;
  const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
  app.get('/db', async (_req, res) => {
    res.json((await db.query('select pg_sleep(0.05), now() as at')).rows[0]);
  });
}
