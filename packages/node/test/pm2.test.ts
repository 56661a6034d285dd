import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNT, listenersOf, scrape, sum, traffic, USERS, workerPids } from './processes-support.js';
import { eventuallyPasses, FIXTURES, freePort } from './support.js';

// PM2's cluster mode (real PM2 from npm, its own daemon in a temporary PM2_HOME): two instances
// started with the README's ecosystem file elect one to serve the aggregate /metrics.
const run = promisify(execFile);
const PM2 = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');

describe('PM2 cluster mode', () => {
  const home = mkdtempSync(join(tmpdir(), 'otelkit-pm2-'));
  let appPort = 0;
  let metricsPort = 0;
  const pm2 = (...args: string[]) =>
    run(process.execPath, [PM2, ...args], {
      cwd: FIXTURES,
      env: { PATH: process.env.PATH, HOME: home, PM2_HOME: home, APP_PORT: String(appPort), OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), INSTANCES: '2' },
    });

  beforeAll(async () => {
    appPort = await freePort();
    metricsPort = await freePort();
    await pm2('start', 'pm2-ecosystem.config.cjs');
  }, 60_000);

  afterAll(async () => {
    await pm2('kill').catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('serves one /metrics summing both instances, and keeps the sum when the serving instance dies', async () => {
    await eventuallyPasses(async () => {
      const samples = await scrape(metricsPort);
      const instances = samples.filter((sample) => sample.name === 'process_uptime_seconds').map((sample) => sample.labels.otelkit_worker);
      expect(instances.sort()).toEqual(['0', '1']);
    }, 20_000);
    expect(await workerPids(appPort, 2)).toHaveLength(2);
    const n = 120;
    await traffic(appPort, n);
    await eventuallyPasses(async () => expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(n));
    // Only one instance listens on the metrics port; kill it hard: PM2 restarts it, the other takes over.
    const [hub] = listenersOf(metricsPort);
    expect(listenersOf(metricsPort)).toHaveLength(1);
    expect(await workerPids(appPort, 2)).toContain(hub);
    process.kill(hub!, 'SIGKILL');
    await eventuallyPasses(async () => {
      const listeners = listenersOf(metricsPort);
      expect(listeners).toHaveLength(1);
      expect(listeners[0]).not.toBe(hub);
      const samples = await scrape(metricsPort);
      expect(samples.filter((sample) => sample.name === 'process_uptime_seconds')).toHaveLength(2);
    }, 20_000);
    // The new hub starts from the heir the old one handed over: nothing went backwards.
    for (let i = 0; i < 3; i++) expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(n);
    expect(sum(await scrape(metricsPort), 'service_starts_total')).toBe(3);
    // A hub stopped gracefully (SIGINT; PM2 starts it again) hands over its final counts and the port.
    await traffic(appPort, 40);
    const [graceful] = listenersOf(metricsPort);
    process.kill(graceful!, 'SIGINT');
    await eventuallyPasses(async () => {
      const listeners = listenersOf(metricsPort);
      expect(listeners).toHaveLength(1);
      expect(listeners[0]).not.toBe(graceful);
      expect(sum(await scrape(metricsPort), 'service_starts_total')).toBe(4);
    }, 20_000);
    expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(n + 40);
  }, 90_000);
});
