import { gunzipSync } from 'node:zlib';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { bindCounter, bindHistogram, bucketIndex, createOtelkitMetricProducer, otelkitViews, type MetricDefinition } from '@otelkit/core';
import { PrometheusPullReader } from '../../src/prometheus-reader.js';
import type { ExpositionOptions } from '../../src/prometheus/exposition.js';
import { decodeMetricFamilies, nativeBuckets, parseOpenMetrics } from '../../../../test-support/exposition-parsers.js';
import { promtoolCheckMetrics } from '../support.js';

const PROTOBUF = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
const OPENMETRICS = 'application/openmetrics-text;version=1.0.0';

const producer = createOtelkitMetricProducer({ exemplars: true, nativeHistograms: { schema: 3, zeroThreshold: 2 ** -128, maxBuckets: 160 } });
afterAll(() => producer.detach());

const DURATION: MetricDefinition<'histogram'> = {
  name: 'test.operation.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Duration of test operations.',
  attributes: ['operation'],
  buckets: [0.01, 0.1, 1],
  stability: 'otelkit',
};
const CALLS: MetricDefinition<'counter'> = {
  name: 'test.calls',
  kind: 'counter',
  unit: '{call}',
  description: 'Test calls.',
  attributes: ['operation'],
  stability: 'otelkit',
};

function spanContext(sampled: boolean, n: number): SpanContext {
  return {
    traceId: n.toString(16).padStart(32, 'a'),
    spanId: n.toString(16).padStart(16, 'b'),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  };
}

const VALUES = [0, 0.004, 0.02, 0.3, 0.7, 2.5, 40];
const sampled = spanContext(true, 1);
const unsampled = spanContext(false, 2);
const histogram = bindHistogram(DURATION, { operation: 'load' });
histogram.record(0.005, unsampled); // bucket le=0.01: no exemplar from an unsampled span...
VALUES.forEach((value, i) => histogram.record(value, i === 1 ? sampled : undefined)); // ...until a sampled one
bindCounter(CALLS, { operation: 'load' }).add(3, sampled);

function pipeline(options: Partial<ExpositionOptions> = {}, record?: (provider: MeterProvider) => void) {
  const reader = new PrometheusPullReader({ cardinalityLimit: 2000, metricProducers: [producer], ...options });
  const provider = new MeterProvider({
    readers: [reader],
    views: otelkitViews(),
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'test', 'service.instance.id': 'i-1' }),
  });
  provider.getMeter('test-scope').createObservableGauge('queue.depth', { unit: '{message}', description: 'Queued "messages"\nright now.' }).addCallback((r) => r.observe(7, { queue: 'a\\b' }));
  record?.(provider);
  return { reader, provider };
}

describe('OpenMetrics 1.0.0', () => {
  it('is accepted by prometheus_client, with bucket and counter exemplars from sampled spans only', async () => {
    const { reader } = pipeline();
    const answer = await reader.respond(OPENMETRICS, undefined);
    expect(answer.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    const families = parseOpenMetrics(answer.body.toString());
    const duration = families.find((f) => f.name === 'test_operation_duration_seconds')!;
    expect(duration.type).toBe('histogram');
    expect(duration.unit).toBe('seconds');
    const withExemplar = duration.samples.filter((s) => s.exemplar !== null);
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar[0]!.labels.le).toBe('0.01');
    expect(withExemplar[0]!.exemplar!.labels).toEqual({ trace_id: sampled.traceId, span_id: sampled.spanId });
    expect(withExemplar[0]!.exemplar!.value).toBe(0.004);
    const calls = families.find((f) => f.name === 'test_calls')!;
    expect(calls.type).toBe('counter');
    expect(calls.samples[0]!.name).toBe('test_calls_total');
    expect(calls.samples[0]!.exemplar!.labels.trace_id).toBe(sampled.traceId);
    expect(families.find((f) => f.name === 'target')!.type).toBe('info');
    const gauge = families.find((f) => f.name === 'queue_depth')!;
    expect(gauge.help).toBe('Queued "messages"\nright now.');
    expect(gauge.samples[0]!.labels.queue).toBe('a\\b');
  });

  it('copies the configured resource attributes onto every series', async () => {
    const { reader } = pipeline({ resourceLabels: ['service.name', 'deployment.environment.name', 'not.there'] });
    const families = parseOpenMetrics((await reader.respond(OPENMETRICS, undefined)).body.toString());
    for (const family of families.filter((f) => f.name !== 'target')) {
      for (const sample of family.samples) {
        expect(sample.labels.service_name).toBe('checkout');
        expect(sample.labels.deployment_environment_name).toBe('test');
        expect(sample.labels).not.toHaveProperty('not_there');
      }
    }
  });

  it('escapes names with dots as negotiated, still parseable', async () => {
    const { reader } = pipeline({ translationStrategy: 'NoUTF8EscapingWithSuffixes' });
    const answer = await reader.respond(`${OPENMETRICS};escaping=dots`, undefined);
    const names = parseOpenMetrics(answer.body.toString()).map((f) => f.name);
    expect(names).toContain('test_dot_operation_dot_duration__seconds');
    expect(names).toContain('queue_dot_depth');
    // A counter's `_total` is added after escaping, never cut from an escaped name.
    const families = parseOpenMetrics(answer.body.toString());
    expect(families.find((f) => f.name === 'test_dot_calls')?.samples[0]?.name).toBe('test_dot_calls_total');
    // Names that are valid already stay as they are.
    expect(names).toContain('target');
  });
});

describe('protobuf (io.prometheus.client.MetricFamily, delimited)', () => {
  it('decodes with the official metrics.proto: classic and native buckets agree, exemplars attached', async () => {
    const { reader } = pipeline();
    const answer = await reader.respond(PROTOBUF, undefined);
    expect(answer.contentType).toBe('application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores');
    const families = decodeMetricFamilies(answer.body);
    const duration = families.find((f) => f.name === 'test_operation_duration_seconds')!;
    expect(duration.type).toBe('HISTOGRAM');
    const h = duration.metric[0]!.histogram!;
    const recorded = [0.005, ...VALUES];
    expect(h.sampleCount).toBe(recorded.length);
    expect(h.sampleSum).toBeCloseTo(recorded.reduce((a, b) => a + b, 0), 12);
    expect(h.bucket.map((b) => b.cumulativeCount)).toEqual([3, 4, 6, 8]);
    expect(h.bucket[0]!.exemplar!.label).toEqual([
      { name: 'trace_id', value: sampled.traceId },
      { name: 'span_id', value: sampled.spanId },
    ]);
    expect(h.schema).toBe(3);
    expect(h.zeroCount).toBe(1);
    const expected = new Map<number, number>();
    for (const value of recorded.filter((v) => v > 0)) expected.set(bucketIndex(value, 3), (expected.get(bucketIndex(value, 3)) ?? 0) + 1);
    const decoded = [...nativeBuckets(h)].filter(([, count]) => count > 0);
    expect(new Map(decoded)).toEqual(expected);
    const calls = families.find((f) => f.name === 'test_calls_total')!;
    expect(calls.type).toBe('COUNTER');
    expect(calls.metric[0]!.counter!.value).toBe(3);
    expect(calls.metric[0]!.counter!.exemplar!.label[0]!.value).toBe(sampled.traceId);
    expect(families.find((f) => f.name === 'queue_depth')!.metric[0]!.gauge!.value).toBe(7);
  });

  it('keeps UTF-8 names when the scraper allows them and the strategy keeps them', async () => {
    const { reader } = pipeline({ translationStrategy: 'NoTranslation' });
    const families = decodeMetricFamilies((await reader.respond(`${PROTOBUF};escaping=allow-utf-8`, undefined)).body);
    expect(families.map((f) => f.name)).toEqual(expect.arrayContaining(['test.operation.duration', 'test.calls', 'queue.depth']));
    const labels = families.find((f) => f.name === 'test.calls')!.metric[0]!.label.map((l) => l.name);
    expect(labels).toContain('otel_scope_name');
  });
});

describe('text formats', () => {
  it('text 0.0.4 passes promtool and carries no exemplars', async () => {
    const { reader } = pipeline();
    const answer = await reader.respond('text/plain;version=0.0.4', undefined);
    const text = answer.body.toString();
    expect(promtoolCheckMetrics(text).status).toBe(0);
    expect(text).not.toMatch(/trace_id/);
    expect(text).toMatch(/^test_operation_duration_seconds_bucket\{operation="load",.*le="0\.01"\} 3$/m);
  });

  it('text 1.0.0 quotes UTF-8 names when allowed, and escapes them to legacy names when not', async () => {
    const { reader } = pipeline({ translationStrategy: 'NoUTF8EscapingWithSuffixes' });
    const utf8 = (await reader.respond('text/plain;version=1.0.0;escaping=allow-utf-8', undefined)).body.toString();
    expect(utf8).toContain('# TYPE "test.operation.duration_seconds" histogram');
    expect(utf8).toMatch(/^\{"test\.operation\.duration_seconds_bucket",operation="load",.*le="\+Inf"\} 8$/m);
    const legacy = (await reader.respond('text/plain;version=1.0.0;escaping=underscores', undefined)).body.toString();
    expect(legacy).toContain('# TYPE test_operation_duration_seconds histogram');
    expect(promtoolCheckMetrics(legacy).status).toBe(0);
  });
});

describe('scrapes', () => {
  it('gzips when asked: the same body, compressed', async () => {
    const { reader } = pipeline();
    const plain = await reader.respond(OPENMETRICS, undefined);
    const zipped = await reader.respond(OPENMETRICS, 'gzip, deflate');
    expect(zipped.gzip).toBe(true);
    const unzipped = gunzipSync(zipped.body).toString();
    // Only the uptime gauge differs between two collections.
    const strip = (text: string) => text.replace(/^process_uptime.*$/gm, '');
    expect(strip(unzipped)).toBe(strip(plain.body.toString()));
  });

  it('200 concurrent scrapes share one collection and get identical bodies', async () => {
    let collections = 0;
    const { reader } = pipeline({}, (provider) =>
      provider.getMeter('test').createObservableCounter('collections').addCallback((r) => r.observe(++collections)),
    );
    const answers = await Promise.all(Array.from({ length: 200 }, () => reader.respond(OPENMETRICS, undefined)));
    expect(collections).toBe(1);
    expect(new Set(answers.map((a) => a.body.toString())).size).toBe(1);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await reader.respond(OPENMETRICS, undefined);
    expect(collections).toBe(2);
  });

  it('a throwing callback costs only its own metric', async () => {
    const { reader } = pipeline({}, (provider) => {
      provider.getMeter('test').createObservableGauge('broken.gauge').addCallback(() => {
        throw new Error('callback broke');
      });
    });
    const answer = await reader.respond(OPENMETRICS, undefined);
    expect(answer.status).toBe(200);
    const names = parseOpenMetrics(answer.body.toString()).map((f) => f.name);
    expect(names).not.toContain('broken_gauge');
    expect(names).toContain('queue_depth');
    expect(names).toContain('test_operation_duration_seconds');
  });

  it('a callback that never returns is cut off: the scrape still answers, without it', async () => {
    const { reader } = pipeline({ timeoutMs: 1000 }, (provider) => {
      provider.getMeter('test').createObservableGauge('hung.gauge').addCallback(() => new Promise<void>(() => {}));
    });
    const answer = await reader.respond(OPENMETRICS, undefined);
    expect(answer.status).toBe(200);
    const names = parseOpenMetrics(answer.body.toString()).map((f) => f.name);
    expect(names).not.toContain('hung_gauge');
    expect(names).toContain('queue_depth');
  });
});

describe('a collection that hangs as a whole', () => {
  it('is answered 503 within the scrape timeout, and the next scrape collects anew', async () => {
    let calls = 0;
    const sometimesHanging = {
      collect: () => (++calls === 1 ? new Promise<never>(() => {}) : Promise.resolve({ resourceMetrics: { resource: {}, scopeMetrics: [] }, errors: [] })),
    };
    const reader = new PrometheusPullReader({ cardinalityLimit: 2000, metricProducers: [sometimesHanging as never], timeoutMs: 300 });
    new MeterProvider({ readers: [reader] });
    const answer = await reader.respond(OPENMETRICS, undefined);
    expect(answer.status).toBe(503);
    const next = await reader.respond(OPENMETRICS, undefined);
    expect(next.status).toBe(200);
    expect(calls).toBe(2);
  });
});
