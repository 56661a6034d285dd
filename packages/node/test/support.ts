import { spawnListeningApp, type ListeningApp } from '../../../test-support/app-process.js';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export { freePort } from '../../../test-support/demo-and-prometheus.js';

export type RunningApp = ListeningApp;

/** Starts `node --import @otelkit/node/register <fixture>` and waits for its `LISTENING <port>` line. */
export async function startApp(fixture: string, env: Record<string, string>, preload = true): Promise<RunningApp> {
  const args = [...(preload ? ['--import', '@otelkit/node/register'] : []), join(FIXTURES, fixture)];
  return spawnListeningApp(args, FIXTURES, { OTEL_TRACES_EXPORTER: 'none', ...env });
}

/** GET (or another method) and read the whole body. */
export async function request(url: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { method });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

export { parseSamples, type Sample } from '../../../test-support/prometheus-text.js';

export { promtoolCheckMetrics } from '../../../test-support/promtool.js';

export { eventually, eventuallyPasses } from '../../../test-support/eventually.js';

const protoRoot = new protobuf.Root();
protoRoot.resolvePath = (_origin, target) => join(FIXTURES, 'otlp-proto', target);
protoRoot.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
protoRoot.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
const ExportMetricsServiceRequest = protoRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const ExportTraceServiceRequest = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ExportTraceServiceResponse = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

/** A decoded span, flattened with its resource attributes. */
export type ReceivedSpan = {
  name: string;
  kind: number;
  traceId: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
};

type KeyValue = { key: string; value: Record<string, unknown> };

function attributeMap(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue ?? value;
  }
  return out;
}

/**
 * A real OTLP/HTTP trace receiver: decodes protobuf bodies with the official OTLP definitions (v1.11.0)
 * and JSON bodies per the OTLP/JSON encoding, and answers as a collector does.
 */
export async function startOtlpReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  /** The resource attributes of each metrics export received (OTLP/protobuf on `/v1/metrics`). */
  metricResources: Array<Record<string, unknown>>;
  contentTypes: string[];
  close: () => Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const metricResources: Array<Record<string, unknown>> = [];
  const contentTypes: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? '';
    contentTypes.push(contentType);
    if (req.url?.endsWith('/v1/metrics')) {
      const decoded = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(body), { longs: Number }) as {
        resourceMetrics?: Array<{ resource?: { attributes?: KeyValue[] } }>;
      };
      for (const resourceMetrics of decoded.resourceMetrics ?? []) metricResources.push(attributeMap(resourceMetrics.resource?.attributes));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      return res.end();
    }
    let message: { resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> };
    if (contentType.includes('application/x-protobuf')) {
      message = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, bytes: String }) as typeof message;
    } else {
      message = JSON.parse(body.toString('utf8')) as typeof message;
    }
    for (const resourceSpans of message.resourceSpans ?? []) {
      const resource = attributeMap(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          const rawId = span.traceId as string;
          const traceId = /^[0-9a-f]{32}$/.test(rawId) ? rawId : Buffer.from(rawId, 'base64').toString('hex');
          spans.push({ name: span.name as string, kind: Number(span.kind), traceId, attributes: attributeMap(span.attributes as KeyValue[]), resource });
        }
      }
    }
    if (contentType.includes('application/x-protobuf')) {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create({})).finish());
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metricResources,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
