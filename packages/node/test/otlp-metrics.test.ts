import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, request, startApp, type RunningApp } from './support.js';

// Metrics pushed over OTLP/protobuf, decoded with the official definitions (v1.11.0): otelkit's
// bound instruments (HTTP server duration) reach the OTLP exporter through the reader's producer,
// beside SDK instruments (service.starts), also when the process stops before the metrics SDK loaded.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(FIXTURES, 'otlp-proto', target);
root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
const ExportMetricsServiceRequest = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');

type DecodedMetric = { name: string; unit?: string; histogram?: { dataPoints: Array<Record<string, unknown>> }; sum?: { dataPoints: Array<Record<string, unknown>> } };

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
});
