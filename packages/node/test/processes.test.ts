import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { COUNT, freePorts, getOnNewConnection, listenersOf, scrape, sum, traffic, USERS, workerPids } from './processes-support.js';
import { eventuallyPasses, freePort, request, startApp, startOtlpReceiver, type RunningApp } from './support.js';

// Several processes, one /metrics: cluster workers behind an otelkit primary, and worker threads.
// Real processes under the preload (fixtures/cluster-app.mjs, fixtures/threads-app.mjs).

describe('cluster: one /metrics on the primary', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    app?.child.kill('SIGKILL');
    // The workers die with their IPC channel once the primary is gone.
    await app?.stop();
    app = undefined;
  });

  async function startCluster(env: Record<string, string> = {}): Promise<{ app: RunningApp; metricsPort: number }> {
    const metricsPort = await freePort();
    app = await startApp('cluster-app.mjs', { WORKERS: '4', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...env });
    return { app, metricsPort };
  }

  it('sums 4 workers: N requests give a count of exactly N and buckets that sum to N; only the primary listens', async () => {
    const { app, metricsPort } = await startCluster();
    const n = 400;
    await traffic(app.port, n);
    const samples = await scrape(metricsPort);
    expect(sum(samples, COUNT, USERS)).toBe(n);
    expect(sum(samples, 'http_server_request_duration_seconds_bucket', { ...USERS, le: '+Inf' })).toBe(n);
    // The requests were spread: each worker's process.uptime is there, labelled, beside the primary's.
    const workers = samples.filter((sample) => sample.name === 'process_uptime_seconds').map((sample) => sample.labels.otelkit_worker);
    expect(workers.sort()).toEqual(['1', '2', '3', '4', 'primary']);
    expect(sum(samples, 'service_starts_total')).toBe(5);
    expect(listenersOf(metricsPort)).toEqual([app.child.pid]);
    // A NaN a worker observes crosses the IPC channel as NaN (JSON alone would make it null).
    expect(samples.filter((sample) => sample.name === 'odd_ratio').map((sample) => sample.value)).toEqual([NaN, NaN, NaN, NaN]);
    const ready = await request(`http://127.0.0.1:${metricsPort}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body).checks).toEqual([expect.objectContaining({ name: 'workers', ready: true, detail: '4 of 4 workers ready (4 needed)' })]);
  });

  it('never lets the sum go backwards while workers are killed and replaced (scrapes every 200 ms)', async () => {
    const { app, metricsPort } = await startCluster();
    const seen: number[] = [];
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        seen.push(sum(await scrape(metricsPort), COUNT, USERS));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    // Stopped however the test ends, so no scrape outlives the app.
    onTestFinished(async () => {
      scraping = false;
      await scraper.catch(() => undefined);
    });
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      await traffic(app.port, 100);
      sent += 100;
      // A scrape after the traffic (the primary then holds every worker's counts); then one worker dies hard.
      await eventuallyPasses(async () => expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(sent));
      const [victim] = await workerPids(app.port, 1);
      process.kill(victim!, 'SIGKILL');
      await eventuallyPasses(async () => expect((await workerPids(app.port, 4)).includes(victim!)).toBe(false));
      for (let i = 0; i < 3; i++) expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(sent);
    }
    // Workers stopped with SIGTERM hand over what they counted since the last scrape. (Two of four: with
    // all of them gone at once, Node's cluster closes the shared app port and the next ones get another.)
    await traffic(app.port, 100);
    sent += 100;
    const pids = (await workerPids(app.port, 4)).slice(0, 2);
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    await eventuallyPasses(async () => expect(sum(await scrape(metricsPort), 'service_starts_total')).toBe(1 + 4 + 3 + 2), 15_000);
    expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(sent);
    // The primary disconnects a worker (a graceful drain) while scrapes and probes go on: nothing breaks.
    const drained = Number((await getOnNewConnection(app.port, '/__disconnect')).body);
    for (let i = 0; i < 10; i++) {
      expect((await request(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
      await request(`http://127.0.0.1:${metricsPort}/health/ready`);
    }
    await eventuallyPasses(async () => expect(await workerPids(app.port, 4)).not.toContain(drained));
    expect(app.child.exitCode).toBeNull();
    expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(sent);
    scraping = false;
    await scraper;
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });

  it('answers a scrape within its deadline while a worker is stuck in a busy loop, and is not ready meanwhile', async () => {
    const { app, metricsPort } = await startCluster({ OTELKIT_CLUSTER_TIMEOUT_MS: '1000', OTELKIT_HEALTH_CHECK_TIMEOUT_MS: '1000' });
    await traffic(app.port, 40);
    await eventuallyPasses(async () => expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(40));
    const stuck = (await getOnNewConnection(app.port, '/__hang?ms=8000')).body;
    const started = performance.now();
    const samples = await scrape(metricsPort);
    const took = performance.now() - started;
    expect(took).toBeLessThan(3000);
    // The stuck worker's counters stay in (from its last answer), its gauges are left out.
    expect(sum(samples, COUNT, USERS)).toBe(40);
    const uptimes = samples.filter((sample) => sample.name === 'process_uptime_seconds').map((sample) => sample.labels.otelkit_worker);
    expect(uptimes).toContain('primary');
    expect(uptimes).not.toContain(stuck);
    const ready = await request(`http://127.0.0.1:${metricsPort}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/[0-3] of 4 workers ready/);
    expect(app.output().stderr).toContain(`worker ${stuck} did not answer within 1000 ms`);
    // Once it is back, it answers again: its gauges return, with the /__hang request it answered.
    await eventuallyPasses(async () => {
      const after = await scrape(metricsPort);
      expect(after.filter((sample) => sample.name === 'process_uptime_seconds')).toHaveLength(5);
      expect(sum(after, COUNT, { http_response_status_code: '202' })).toBe(1);
    }, 15_000);
  });

  it('per-worker mode: each worker serves its own metrics on port + its index', async () => {
    const metricsPort = await freePorts(3);
    app = await startApp('cluster-app.mjs', { WORKERS: '2', OTELKIT_CLUSTER_MODE: 'per-worker', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
    await traffic(app.port, 60);
    await eventuallyPasses(async () => {
      const first = sum(await scrape(metricsPort + 1), COUNT, USERS);
      const second = sum(await scrape(metricsPort + 2), COUNT, USERS);
      expect(first + second).toBe(60);
    });
    // The primary serves its own (it handled no request) and the workers' readiness.
    expect(sum(await scrape(metricsPort), COUNT, USERS)).toBe(0);
    expect((await request(`http://127.0.0.1:${metricsPort}/health/ready`)).body).toContain('2 of 2 workers ready');
    // A replaced worker gets its predecessor's port back.
    const ports = [metricsPort + 1, metricsPort + 2];
    const [victim] = await workerPids(app!.port, 1);
    process.kill(victim!, 'SIGKILL');
    await eventuallyPasses(async () => {
      const listeners = ports.map((port) => listenersOf(port));
      expect(listeners.every((pids) => pids.length === 1 && pids[0] !== victim)).toBe(true);
    });
    // A worker stopped gracefully takes its counts with it: the primary's own target never shows them.
    const [stopped] = await workerPids(app!.port, 1);
    process.kill(stopped!, 'SIGTERM');
    await eventuallyPasses(async () => expect(await workerPids(app!.port, 2)).not.toContain(stopped));
    const primary = await scrape(metricsPort);
    expect(sum(primary, COUNT, USERS)).toBe(0);
    expect(sum(primary, 'service_starts_total')).toBe(1);
  });

  it('exports traces and metrics over OTLP from each worker with its own service.instance.id', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const { app } = await startCluster({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '300',
      });
      await traffic(app.port, 80);
      const workers = await workerPids(app.port, 4);
      expect(workers).toHaveLength(4);
      await eventuallyPasses(() => {
        const spanInstances = new Set(receiver.spans.map((span) => span.resource['service.instance.id']));
        expect(spanInstances.size).toBe(4);
        // Each worker and the primary push metrics, each under its own identity.
        const metricInstances = new Set(receiver.metricResources.map((resource) => resource['service.instance.id']));
        expect(metricInstances.size).toBe(5);
        for (const instance of spanInstances) expect(metricInstances.has(instance)).toBe(true);
      }, 15_000);
    } finally {
      await receiver.close();
    }
  });
});

describe('worker threads: counts reach the process /metrics', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const exit of [false, true]) {
    it(`sums the counters of 2 threads${exit ? ' that have ended' : ''}`, async () => {
      const metricsPort = await freePort();
      app = await startApp('threads-app.mjs', { THREADS: '2', COUNT: '150', EXIT: exit ? '1' : '0', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
      await eventuallyPasses(async () => {
        const samples = await scrape(metricsPort);
        expect(sum(samples, 'jobs_done_total', { kind: 'thread' })).toBe(300);
        // Live threads report their gauges too, labelled; ended ones only their final counts.
        const uptimes = samples.filter((sample) => sample.name === 'process_uptime_seconds').map((sample) => sample.labels.otelkit_worker);
        // (Thread ids are not 1 and 2 where Node 20 runs the ESM loader hooks in a thread of their own.)
        expect(uptimes.filter((label) => label === 'main')).toHaveLength(1);
        expect(uptimes.filter((label) => /^thread-\d+$/.test(label!))).toHaveLength(exit ? 0 : 2);
      });
      expect(listenersOf(metricsPort)).toEqual([app.child.pid]);
    });
  }
});
