import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addReadinessCheck, removeReadinessCheck, shutdown, start, type HealthReport } from '@otelkit/node';
import { request } from './support.js';

// In-process: start() in this test file's own worker, on a free port chosen by the OS.
let address: AddressInfo;
const url = (path: string) => `http://${address.address}:${address.port}${path}`;
const report = async (path: string) => {
  const response = await request(url(path));
  return { status: response.status, body: JSON.parse(response.body) as HealthReport };
};

beforeAll(async () => {
  const sdk = start({ prometheusPort: 0, handleSignals: false, runtimeMetrics: false, tracesExporter: 'none', logLevel: 'none' });
  address = (await sdk.ready)!;
});

afterAll(async () => {
  await shutdown();
});

describe('health endpoints', () => {
  it('answer startup with 503 until every check has passed once, then 200 for good', async () => {
    let dependencyUp = false;
    addReadinessCheck('warming', () => dependencyUp);
    expect((await report('/health/startup')).status).toBe(503);
    dependencyUp = true;
    expect((await report('/health/startup')).status).toBe(200);
    dependencyUp = false;
    expect((await report('/health/startup')).status).toBe(200);
    expect((await report('/health/ready')).status).toBe(503);
    removeReadinessCheck('warming');
  });

  it('bind the metrics port to loopback by default', () => {
    expect(address.address).toBe('127.0.0.1');
  });

  it('answer live, ready and startup with 200 when every check passes', async () => {
    addReadinessCheck('always', () => true);
    expect((await request(url('/health/live'))).status).toBe(200);
    const ready = await report('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks[0]).toMatchObject({ name: 'always', ready: true });
    expect(ready.body.checks[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect((await report('/health/startup')).status).toBe(200);
    removeReadinessCheck('always');
  });

  it('answer 503 with each check, its result and latency when one fails, throws or times out', async () => {
    addReadinessCheck('db', async () => ({ ready: false, detail: 'pool saturated' }));
    addReadinessCheck('cache', () => {
      throw new Error('redis down');
    });
    addReadinessCheck('slow', () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1000)), { timeoutMs: 50 });
    addReadinessCheck('fine', () => true);
    const { status, body } = await report('/health/ready');
    expect(status).toBe(503);
    expect(body.status).toBe('not_ready');
    const byName = Object.fromEntries(body.checks.map((check) => [check.name, check]));
    expect(byName.db).toMatchObject({ ready: false, detail: 'pool saturated' });
    expect(byName.cache).toMatchObject({ ready: false, detail: 'Error: redis down' });
    expect(byName.slow).toMatchObject({ ready: false, detail: 'timed out after 50 ms' });
    expect(byName.slow?.latencyMs).toBeGreaterThanOrEqual(40);
    expect(byName.slow?.latencyMs).toBeLessThan(900);
    expect(byName.fine).toMatchObject({ ready: true });
    // Liveness does not depend on dependencies.
    expect((await request(url('/health/live'))).status).toBe(200);
    for (const name of ['db', 'cache', 'slow', 'fine']) removeReadinessCheck(name);
    expect((await report('/health/ready')).status).toBe(200);
  });

  it('ignore a bad check instead of throwing', () => {
    expect(() => addReadinessCheck('', undefined as never)).not.toThrow();
  });

  it('serve /metrics on the same port and 404 elsewhere', async () => {
    expect((await request(url('/metrics'))).body).toContain('# TYPE process_uptime_seconds gauge');
    expect((await request(url('/nope'))).status).toBe(404);
    expect((await request(url('/health/whatever'))).status).toBe(404);
  });
});
