import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createNetServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, freePort, scrape, startApp, total, type App } from './support.js';

/* Bad input: from clients (paths, methods), from the app's own code (values, attributes), from the environment. */

const MB = 1024 * 1024;
let app: App | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** Sends `requests` (raw HTTP/1.1 request heads) pipelined over `connections` sockets; resolves with the responses counted. */
async function pipelined(port: number, requests: string[], connections: number): Promise<number> {
  const perConnection = Math.ceil(requests.length / connections);
  const runs = Array.from({ length: connections }, (_, c) => {
    const mine = requests.slice(c * perConnection, (c + 1) * perConnection);
    return new Promise<number>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answered = 0;
      let tail = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        // Each response (short body, no blank line in it) has exactly one header terminator.
        const text = tail + chunk;
        answered += text.split('\r\n\r\n').length - 1;
        tail = text.slice(-3);
        if (answered >= mine.length) socket.end();
      });
      socket.once('error', reject);
      socket.once('close', () => resolve(answered));
      const batch = 500;
      let next = 0;
      const write = (): void => {
        while (next < mine.length) {
          const part = mine.slice(next, next + batch).join('');
          next += batch;
          if (!socket.write(part)) {
            socket.once('drain', write);
            return;
          }
        }
      };
      write();
    });
  });
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

describe('hostile clients', () => {
  it('100k distinct URL paths and WebDAV/extension methods: duration series bounded by routes × methods × statuses and by the limit; every request counted', async () => {
    app = await startApp('bad-input-app.mjs', {});
    const methods = ['GET', 'POST', 'PROPFIND', 'PURGE', 'SEARCH', 'MKCOL', 'LINK', 'UNLINK', 'LOCK', 'REPORT'];
    const requests: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const path = i % 2 === 0 ? `/items/${i}` : `/raw/${i}/${(i * 7919) % 100_003}?token=secret-${i}`;
      requests.push(`${methods[i % methods.length]} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
    }
    const answered = await pipelined(app.port, requests, 4);
    const samples = await scrape(app);
    const counts = samples.filter((sample) => sample.name === 'http_server_request_duration_seconds_count');
    const methodsSeen = new Set(counts.map((sample) => sample.labels.http_request_method));
    const routesSeen = new Set(counts.map((sample) => sample.labels.http_route ?? ''));
    console.log(`100k paths: ${answered} answered, ${counts.length} duration series, methods ${[...methodsSeen].join(',')}, routes ${[...routesSeen].join(',')}`);
    expect(answered).toBe(100_000);
    expect(total(samples, 'http_server_request_duration_seconds_count')).toBe(100_000);
    // Routes: /items/:id and none; methods: GET, POST and _OTHER; status: 200.
    expect(counts.length).toBeLessThanOrEqual(2 * 3 * 1);
    expect([...methodsSeen].sort()).toEqual(['GET', 'POST', '_OTHER']);
    expect([...routesSeen].sort()).toEqual(['', '/items/:id']);
    const text = JSON.stringify(samples);
    expect(text).not.toContain('/raw/');
    expect(text).not.toContain('secret-');
  }, 120_000);
});

describe('bad input from the app', () => {
  for (const via of ['api', 'bound'] as const) {
    it(`1M distinct attribute values on one counter (${via === 'api' ? 'through the OpenTelemetry API' : 'otelkit bound counters'}): one overflow series, heap < +50 MB, the total exact`, async () => {
      app = await startApp('bad-input-app.mjs', {});
      // The metrics SDK loaded (a first scrape): a burst before it loads is the next test's case.
      await scrape(app);
      const first = (await (await fetch(`http://127.0.0.1:${app.port}/distinct?n=500000&via=${via}`)).json()) as { before: number; after: number };
      const second = (await (await fetch(`http://127.0.0.1:${app.port}/distinct?n=500000&via=${via}`)).json()) as { before: number; after: number };
      const samples = await scrape(app);
      const name = via === 'api' ? 'jobs_distinct_total' : 'cache_requests_total';
      const series = samples.filter((sample) => sample.name === name);
      const overflow = series.filter((sample) => sample.labels.otel_metric_overflow === 'true');
      console.log(
        `1M distinct (${via}): ${series.length} series, overflow ${overflow[0]?.value}, heap +${((first.after - first.before) / MB).toFixed(1)} MB after 500k, ` +
          `+${((second.after - first.before) / MB).toFixed(1)} MB after 1M`,
      );
      expect(overflow).toHaveLength(1);
      expect(series.length).toBe(2000);
      expect(total(samples, name)).toBe(1_000_000);
      expect(second.after - first.before).toBeLessThan(50 * MB);
    }, 120_000);
  }

  it('a burst of 200k API measurements before the metrics SDK has loaded: every measurement is either recorded or counted in otelkit.metric.measurements.dropped', async () => {
    app = await startApp('bad-input-app.mjs', {});
    await fetch(`http://127.0.0.1:${app.port}/distinct?n=200000&via=api`);
    const samples = await scrape(app);
    const recorded = total(samples, 'jobs_distinct_total');
    const dropped = total(samples, 'otelkit_metric_measurements_dropped_total');
    console.log(`burst before the SDK loaded: ${recorded} recorded, ${dropped} dropped and counted`);
    // Nothing lost silently: each measurement is recorded or counted as dropped. (How many are recorded
    // depends on how soon the SDK's modules load while the burst runs: 10,000 to 30,000 in CI runs;
    // that the burst asks for the SDK at once is deferred-meter-provider.test.ts's "asks for the SDK".)
    expect(recorded + dropped).toBe(200_000);
    expect(dropped).toBeGreaterThan(0);
    expect(recorded).toBeGreaterThanOrEqual(9_000);
  });

  it('NaN, ±Infinity and negative values (API and bound instruments): dropped and counted, one diagnostic per instrument and kind, sums stay finite, nothing thrown', async () => {
    app = await startApp('bad-input-app.mjs', {});
    const response = await fetch(`http://127.0.0.1:${app.port}/invalid`);
    expect(await response.text()).toBe('recorded');
    const samples = await scrape(app);
    expect(total(samples, 'jobs_counted_total')).toBe(3);
    expect(total(samples, 'jobs_duration_seconds_sum')).toBe(3);
    expect(total(samples, 'jobs_duration_seconds_count')).toBe(2);
    expect(total(samples, 'jobs_active')).toBe(3);
    expect(total(samples, 'cache_requests_total', { cache_name: 'invalid-input' })).toBe(3);
    expect(total(samples, 'operation_duration_seconds_count', { operation_name: 'invalid-input' })).toBe(2);
    expect(total(samples, 'operation_duration_seconds_sum', { operation_name: 'invalid-input' })).toBe(3);
    // 3 rounds × (4 values × 4 instruments + 3 values into the up-down counter).
    expect(total(samples, 'otelkit_metric_measurements_invalid_total')).toBe(3 * (4 * 4 + 3));
    for (const sample of samples) expect(Number.isNaN(sample.value)).toBe(false);
    const diagnostics = app.output().stderr.split('\n').filter((line) => line.includes('dropped the'));
    for (const instrument of ['jobs.counted', 'jobs.duration', 'cache.requests', 'operation.duration']) {
      for (const kind of ['NaN', 'infinite', 'negative']) {
        expect(diagnostics.filter((line) => line.includes(`${instrument}: dropped the ${kind}`)), `${instrument} ${kind}`).toHaveLength(1);
      }
    }
    for (const kind of ['NaN', 'infinite']) expect(diagnostics.filter((line) => line.includes(`jobs.active: dropped the ${kind}`))).toHaveLength(1);
  });
});

describe('faults around the preload', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it('the metrics port already in use: the app starts and serves, one diagnostic, no crash', async () => {
    const port = await freePort();
    blocker = createNetServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    app = await startApp('bad-input-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) });
    for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${app.port}/items/${i}`)).status).toBe(200);
    const lines = await eventually(() => {
      const found = app!.output().stderr.split('\n').filter((line) => line.includes(String(port)));
      return found.length > 0 ? found : undefined;
    });
    console.log(`port in use: ${lines.join(' | ')}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/EADDRINUSE|in use/);
    expect(app.child.exitCode).toBeNull();
  });

  it('every OTEL_* variable with a value of the wrong kind: the app starts and serves, one diagnostic per variable', async () => {
    const bad: Record<string, string> = {
      OTEL_SDK_DISABLED: 'maybe',
      OTEL_RESOURCE_ATTRIBUTES: 'no-equals-sign,=empty-key',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_METRICS_EXPORTER: 'statsd',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_LOG_LEVEL: 'loud',
      OTEL_METRIC_EXPORT_INTERVAL: '-5',
      OTEL_METRIC_EXPORT_TIMEOUT: 'soon',
      OTEL_BSP_SCHEDULE_DELAY: 'later',
      OTEL_BSP_EXPORT_TIMEOUT: '-1',
      OTEL_BSP_MAX_QUEUE_SIZE: '0',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1.5',
      OTEL_METRICS_EXEMPLAR_FILTER: 'some',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes',
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'linear',
    };
    const metricsPort = await freePort();
    app = await startApp('bad-input-app.mjs', { ...bad, OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
    expect((await fetch(`http://127.0.0.1:${app.port}/items/1`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
    await eventually(() => (app!.output().stderr.includes('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION:') ? true : undefined));
    const stderr = app.output().stderr.split('\n');
    for (const variable of Object.keys(bad)) {
      expect(stderr.filter((line) => line.includes(`${variable}:`)), variable).toHaveLength(1);
    }
  });

  it('an instrumentation that throws in patch: the module still loads (unpatched), the app serves, one diagnostic', async () => {
    // Not preloaded: the fixture calls start() itself, with its instrumentation.
    app = await startApp('throwing-patch-app.mjs', {}, { preload: false });
    const response = await fetch(`http://127.0.0.1:${app.port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('ok: true');
    const lines = await eventually(() => {
      const found = app!.output().stderr.split('\n').filter((line) => line.includes('patch exploded'));
      return found.length > 0 ? found : undefined;
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('throwing-instrumentation failed to patch yaml');
  });

  for (const broken of ['a directory named package.json', 'package.json that is not JSON'] as const) {
    it(`an unreadable package.json (${broken}): the app starts and serves, one diagnostic`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'otelkit-broken-package-'));
      try {
        if (broken.startsWith('a directory')) mkdirSync(join(dir, 'package.json'));
        else writeFileSync(join(dir, 'package.json'), '{"name": "broken",');
        writeFileSync(
          join(dir, 'app.mjs'),
          "import http from 'node:http';\nconst server = http.createServer((q, r) => r.end('ok'));\nserver.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));\n",
        );
        const register = createRequire(import.meta.url).resolve('@otelkit/node/register');
        const metricsPort = await freePort();
        const child = spawn(process.execPath, ['--import', register, join(dir, 'app.mjs')], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        try {
          const port = await new Promise<number>((resolve, reject) => {
            child.stdout.on('data', () => {
              const match = /LISTENING (\d+)/.exec(stdout);
              if (match) resolve(Number(match[1]));
            });
            child.once('exit', () => reject(new Error(`exited: ${stderr}`)));
          });
          expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
          expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
          // The resource (and so the service name) is built when the metrics SDK loads: by the scrape above.
          const lines = await eventually(() => {
            const found = stderr.split('\n').filter((line) => line.includes(join(dir, 'package.json')));
            return found.length > 0 ? found : undefined;
          });
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain('not taking the service name or version from it');
        } finally {
          child.kill('SIGKILL');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
