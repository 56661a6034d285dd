import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FIXTURES, freePort, request, startApp, type RunningApp } from './support.js';

// Metrics pushed over OTLP/protobuf, decoded with the official definitions (v1.11.0): otelkit's
// bound instruments (HTTP server duration) reach the OTLP exporter through the reader's producer,
// beside SDK instruments (service.starts), also when the process stops before the metrics SDK loaded.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(FIXTURES, 'otlp-proto', target);
root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
const ExportMetricsServiceRequest = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');

type DecodedMetric = {
  name: string;
  unit?: string;
  histogram?: { dataPoints: Array<Record<string, unknown>>; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints: Array<{ count: number; sum: number; scale: number; zeroCount?: number; positive?: { offset?: number; bucketCounts?: number[] } }> };
  sum?: { dataPoints: Array<Record<string, unknown>>; aggregationTemporality?: number };
};

async function startMetricsReceiver() {
  const metrics: DecodedMetric[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const message = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(Buffer.concat(chunks)), { longs: Number }) as {
      resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: DecodedMetric[] }> }>;
    };
    for (const resource of message.resourceMetrics ?? []) for (const scope of resource.scopeMetrics ?? []) metrics.push(...(scope.metrics ?? []));
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metrics, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('OTLP/HTTP metrics', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('pushes the bound HTTP duration histogram and SDK metrics on shutdown, the SDK loaded only then', async () => {
    const receiver = await startMetricsReceiver();
    try {
      app = await startApp('esm-app.mjs', {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        OTELKIT_RUNTIME_METRICS: 'false',
      });
      for (let i = 0; i < 7; i++) expect((await request(`http://127.0.0.1:${app.port}/`)).status).toBe(200);
      app.child.kill('SIGTERM');
      await app.exited;
      const duration = receiver.metrics.find((m) => m.name === 'http.server.request.duration');
      expect(duration?.unit).toBe('s');
      const points = duration?.histogram?.dataPoints ?? [];
      expect(points.reduce((sum, point) => sum + Number(point.count), 0)).toBe(7);
      expect(points[0]?.explicitBounds).toEqual([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
      const starts = receiver.metrics.find((m) => m.name === 'service.starts')?.sum?.dataPoints[0];
      expect(Number(starts?.asDouble ?? starts?.asInt)).toBe(1);
    } finally {
      await receiver.close();
    }
  });

  it('sends the duration histogram as a base-2 exponential histogram when asked (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION)', async () => {
    const receiver = await startMetricsReceiver();
    try {
      app = await startApp('esm-app.mjs', {
        OTEL_METRICS_EXPORTER: 'otlp,prometheus',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        OTELKIT_RUNTIME_METRICS: 'false',
      });
      const paths = ['/', '/slow', '/items/1', '/', '/slow'];
      for (const path of paths) expect((await request(`http://127.0.0.1:${app.port}${path}`)).status).toBe(200);
      app.child.kill('SIGTERM');
      await app.exited;
      const duration = receiver.metrics.find((m) => m.name === 'http.server.request.duration');
      expect(duration?.histogram).toBeUndefined();
      const points = duration?.exponentialHistogram?.dataPoints ?? [];
      expect(points.reduce((sum, point) => sum + Number(point.count), 0)).toBe(paths.length);
      for (const point of points) {
        expect(point.scale).toBe(3);
        const buckets = point.positive?.bucketCounts?.map(Number) ?? [];
        expect(buckets.reduce((a, b) => a + b, 0) + Number(point.zeroCount ?? 0)).toBe(Number(point.count));
        // Bucket i holds (2^(i/8), 2^((i+1)/8)]: the two /slow requests (150 ms and a little more) lie near 2^(-22/8).
        const offset = point.positive?.offset ?? 0;
        const upper = 2 ** ((offset + buckets.length) / 8);
        expect(Number(point.sum) / Number(point.count)).toBeLessThanOrEqual(upper);
      }
      const slow = points.find((point) => Number(point.sum) > 0.29);
      expect(slow).toBeDefined();
      const slowOffset = slow!.positive!.offset ?? 0;
      const lowest = 2 ** (slowOffset / 8);
      const highest = 2 ** ((slowOffset + slow!.positive!.bucketCounts!.length) / 8);
      expect(lowest).toBeLessThan(0.15);
      expect(highest).toBeGreaterThan(0.15);
    } finally {
      await receiver.close();
    }
  });

  it('honours OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta and OTEL_METRIC_EXPORT_INTERVAL', async () => {
    const receiver = await startMetricsReceiver();
    try {
      app = await startApp('esm-app.mjs', {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_METRIC_EXPORT_INTERVAL: '300',
        OTEL_METRIC_EXPORT_TIMEOUT: '250',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        OTELKIT_RUNTIME_METRICS: 'false',
      });
      const durations = () => receiver.metrics.filter((m) => m.name === 'http.server.request.duration');
      const countOf = (metric: DecodedMetric) => (metric.histogram?.dataPoints ?? []).reduce((sum, point) => sum + Number(point.count), 0);
      for (let i = 0; i < 3; i++) await request(`http://127.0.0.1:${app.port}/`);
      await eventually(() => (durations().length >= 1 ? true : undefined));
      const exportsBefore = durations().length;
      for (let i = 0; i < 2; i++) await request(`http://127.0.0.1:${app.port}/`);
      // Pushed every 300 ms (not the default 60 s), each push with only what is new.
      await eventually(() => (durations().length > exportsBefore ? true : undefined));
      const counts = durations().map(countOf);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
      // Cumulative pushes would end at 5; deltas never repeat what an earlier push carried.
      expect(counts.length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...counts)).toBeLessThan(5);
      for (const metric of durations()) expect(metric.histogram?.aggregationTemporality).toBe(1); // AGGREGATION_TEMPORALITY_DELTA
    } finally {
      await receiver.close();
    }
  });

  it('pushes the SDK self-metrics over OTLP too: the metric exporter counts its own data points, the reader its collections', async () => {
    const receiver = await startMetricsReceiver();
    try {
      app = await startApp('esm-app.mjs', {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_METRIC_EXPORT_INTERVAL: '300',
        OTEL_METRIC_EXPORT_TIMEOUT: '250',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        OTELKIT_RUNTIME_METRICS: 'false',
      });
      await request(`http://127.0.0.1:${app.port}/`);
      // A push reports the pushes before it.
      const exported = await eventually(() => receiver.metrics.find((m) => m.name === 'otel.sdk.exporter.metric_data_point.exported'));
      const points = exported.sum?.dataPoints ?? [];
      expect(points.length).toBeGreaterThan(0);
      expect(Number(points[0]!.asDouble ?? points[0]!.asInt)).toBeGreaterThan(0);
      expect(JSON.stringify(points[0]!.attributes)).toContain('otlp_http_metric_exporter');
      await eventually(() => receiver.metrics.find((m) => m.name === 'otel.sdk.metric_reader.collection.duration'));
    } finally {
      await receiver.close();
    }
  });
});
