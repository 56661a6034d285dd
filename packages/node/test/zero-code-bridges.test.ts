import { describe, expect, it } from 'vitest';
import { freePort, parseSamples, request, startApp } from './support.js';

async function scrapeAfterRequests(fixture: string, env: Record<string, string> = {}) {
  const metricsPort = await freePort();
  const app = await startApp(fixture, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...env });
  try {
    for (const path of ['/a', '/b', '/a', '/a']) expect((await request(`http://127.0.0.1:${app.port}${path}`)).status).toBe(200);
    return parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
  } finally {
    await app.stop();
  }
}

describe('zero-code bridges under the preload', () => {
  it('bridge a pg pool and an lru-cache created by ESM app code', async () => {
    const samples = await scrapeAfterRequests('pg-app.mjs');
    const pool = samples.filter((s) => s.name === 'db_client_connection_count' && s.labels.db_client_connection_pool_name === '127.0.0.1:5432/test');
    expect(pool.map((s) => s.labels.db_client_connection_state).sort()).toEqual(['idle', 'used']);
    expect(pool.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(1);
    expect(samples.find((s) => s.name === 'db_client_connection_max')?.value).toBe(4);
    expect(samples.find((s) => s.name === 'db_client_connection_wait_time_seconds_count')?.value).toBe(2);
    const hits = samples.filter((s) => s.name === 'cache_requests_total');
    const byResult = Object.fromEntries(hits.map((s) => [s.labels.cache_result, s.value]));
    // Each request does has() then get(): get() always hits after the first set of a key.
    expect(byResult.hit).toBe(4);
    expect(hits[0]?.labels.cache_name).toMatch(/pg-app\.mjs:\d+/);
  });

  it('bridge a pg pool taken by a named CommonJS import', async () => {
    const samples = await scrapeAfterRequests('pg-app.cjs');
    const count = samples.filter((s) => s.name === 'db_client_connection_count' && s.labels.db_client_connection_pool_name === '127.0.0.1:5432/test');
    expect(count.length).toBe(2);
    expect(samples.find((s) => s.name === 'db_client_connection_use_time_seconds_count')?.value).toBe(4);
  });

  it('bridge generic-pool, mysql2/promise (named import) and undici pools created by ESM app code', async () => {
    const samples = await scrapeAfterRequests('pools-app.mjs');
    const used = (pool: string) =>
      samples.filter((s) => s.name === 'db_client_connection_count' && s.labels.db_client_connection_pool_name === pool).map((s) => s.labels.db_client_connection_state).sort();
    expect(used('generic-pool')).toEqual(['idle', 'used']);
    expect(used('127.0.0.1:3306/test')).toEqual(['idle', 'used']);
    expect(samples.find((s) => s.name === 'db_client_connection_wait_time_seconds_count' && s.labels.db_client_connection_pool_name === 'generic-pool')?.value).toBe(4);
    const open = samples.filter((s) => s.name === 'http_client_open_connections' && s.labels.server_address === '127.0.0.1');
    expect(open.map((s) => s.labels.http_connection_state).sort()).toEqual(['active', 'idle']);
  });

  it('bridge CommonJS libraries an ES-module app imports without the ESM loader thread', async () => {
    const samples = await scrapeAfterRequests('pg-app.mjs', { OTELKIT_ESM_LOADER: 'never' });
    const pool = samples.filter((s) => s.name === 'db_client_connection_count' && s.labels.db_client_connection_pool_name === '127.0.0.1:5432/test');
    expect(pool.map((s) => s.labels.db_client_connection_state).sort()).toEqual(['idle', 'used']);
    expect(samples.find((s) => s.name === 'db_client_connection_wait_time_seconds_count')?.value).toBe(2);
    // lru-cache's ES-module build is only reachable through the loader hook: not bridged here.
    expect(samples.some((s) => s.name === 'cache_requests_total')).toBe(false);
    // node:http imported as an ES module still gets server metrics.
    expect(samples.some((s) => s.name === 'http_server_request_duration_seconds_count')).toBe(true);
  });

  it('leave a bridge off when OTELKIT_BRIDGES_DISABLED names it', async () => {
    const samples = await scrapeAfterRequests('pg-app.mjs', { OTELKIT_BRIDGES_DISABLED: 'pg' });
    expect(samples.some((s) => s.name.startsWith('db_client_connection'))).toBe(false);
    expect(samples.some((s) => s.name === 'cache_requests_total')).toBe(true);
  });
});
