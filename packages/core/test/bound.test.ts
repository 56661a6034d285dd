import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bindCounter,
  bindHistogram,
  createInstrument,
  createOtelkitMetricProducer,
  DURATION_BUCKETS_SECONDS,
  otelkitViews,
  POINT_EXTRAS,
  type MetricDefinition,
  type PointExtras,
} from '@otelkit/core';
import { TestReader, uniqueName } from './metric-reader.js';

const CARDINALITY_LIMIT = 6;
const producer = createOtelkitMetricProducer({ cardinalityLimit: CARDINALITY_LIMIT, keep: (name) => !name.startsWith('denied.') });
afterAll(() => producer.detach());

/** A reader on its own provider that also reads otelkit's bound instruments. */
function boundReader(): TestReader {
  const reader = new TestReader({ metricProducers: [producer] });
  new MeterProvider({ readers: [reader] });
  return reader;
}

/** A plain SDK provider, configured as @otelkit/node configures it (views, cardinality limit). */
function sdkReader(): { reader: TestReader; provider: MeterProvider } {
  const reader = new TestReader({ cardinalitySelector: () => CARDINALITY_LIMIT });
  const provider = new MeterProvider({ readers: [reader], views: otelkitViews({ cardinalityLimit: CARDINALITY_LIMIT }) });
  return { reader, provider };
}

function histogramDefinition(name: string): MetricDefinition<'histogram'> {
  return { name, kind: 'histogram', unit: 's', description: 'test durations', attributes: ['k'], buckets: DURATION_BUCKETS_SECONDS, stability: 'otelkit' };
}

function counterDefinition(name: string): MetricDefinition<'counter'> {
  return { name, kind: 'counter', unit: '{call}', description: 'test calls', attributes: ['k'], stability: 'otelkit' };
}

/** What must match between SDK and bound data: descriptor and every point but its timestamps. */
function comparable(metric: MetricData | undefined) {
  if (metric === undefined) return undefined;
  const points = metric.dataPoints
    .map((point) => ({ attributes: point.attributes, value: point.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  const { name, unit, description } = metric.descriptor;
  return { name, unit, description, dataPointType: metric.dataPointType, temporality: metric.aggregationTemporality, points };
}

const VALUES = [0, 0.004, 0.01, 0.0100001, 0.05, 0.2, 0.25, 0.99, 2.5, 9.9, 10, 11, 250];

describe('bound instruments', () => {
  it('give the same histogram data as an SDK histogram for the same measurements', async () => {
    const name = uniqueName('bound.histogram');
    const definition = histogramDefinition(name);
    const sdk = sdkReader();
    const histogram = createInstrument(sdk.provider.getMeter('t'), definition);
    const attributes: Attributes = { k: 'a', n: 1 };
    const bound = bindHistogram(definition, attributes);
    for (const value of VALUES) {
      histogram.record(value, attributes);
      bound.record(value);
    }
    const expected = comparable(await sdk.reader.metric(name));
    const actual = comparable(await boundReader().metric(name));
    expect(expected?.points).toHaveLength(1);
    expect(actual).toEqual(expected);
    const point = (await boundReader().metric(name)) as HistogramMetricData;
    expect(point.dataPoints[0]?.value.count).toBe(VALUES.length);
    expect(point.dataPoints[0]?.value.buckets.boundaries).toEqual([...DURATION_BUCKETS_SECONDS]);
  });

  it('keep attribute sets apart that a naive key would merge (separators in text, 200 vs "200")', async () => {
    const name = uniqueName('bound.keys');
    const definition = counterDefinition(name);
    const sets: Attributes[] = [{ a: 'x\u0001b\u0000y' }, { a: 'x', b: 'y' }, { s: 200 }, { s: '200' }, { s: [1, 2] }]; // five: the file's cardinality limit is 6
    sets.forEach((attributes, i) => bindCounter(definition, attributes).add(i + 1));
    const points = (await boundReader().metric(name))!.dataPoints;
    expect(points).toHaveLength(sets.length);
    for (const [i, attributes] of sets.entries()) expect(points.find((p) => p.value === i + 1)?.attributes).toEqual(attributes);
  });

  it('give the same counter data as an SDK counter', async () => {
    const name = uniqueName('bound.counter');
    const definition = counterDefinition(name);
    const sdk = sdkReader();
    const counter = createInstrument(sdk.provider.getMeter('t'), definition);
    for (const [k, times] of [['x', 3], ['y', 1]] as const) {
      const bound = bindCounter(definition, { k });
      for (let i = 0; i < times; i++) {
        counter.add(2, { k });
        bound.add(2);
      }
    }
    const actual = comparable(await boundReader().metric(name));
    expect(actual).toEqual(comparable(await sdk.reader.metric(name)));
    expect((await boundReader().metric(name)) as SumMetricData).toMatchObject({ isMonotonic: true });
    expect(actual?.points.map((p) => p.value)).toEqual([6, 2]);
  });

  it('fold attribute sets past the cardinality limit into one overflow series, as the SDK does', async () => {
    const name = uniqueName('bound.cardinality');
    const definition = counterDefinition(name);
    const sdk = sdkReader();
    const counter = createInstrument(sdk.provider.getMeter('t'), definition);
    for (let i = 0; i < CARDINALITY_LIMIT * 3; i++) {
      counter.add(1, { k: `v${i}` });
      bindCounter(definition, { k: `v${i}` }).add(1);
    }
    const actual = comparable(await boundReader().metric(name));
    expect(actual).toEqual(comparable(await sdk.reader.metric(name)));
    expect(actual?.points).toHaveLength(CARDINALITY_LIMIT);
    const overflow = actual?.points.find((p) => p.attributes['otel.metric.overflow'] === true);
    expect(overflow?.value).toBe(CARDINALITY_LIMIT * 3 - (CARDINALITY_LIMIT - 1));
  });

  it('leave out metrics the filter rejects', async () => {
    const kept = uniqueName('bound.kept');
    const denied = uniqueName('denied.bound');
    bindCounter(counterDefinition(kept), {}).add(1);
    bindCounter(counterDefinition(denied), {}).add(1);
    const names = (await boundReader().metrics()).map((m) => m.descriptor.name);
    expect(names).toContain(kept);
    expect(names).not.toContain(denied);
  });

  it('report a series only once it has recorded, like the SDK', async () => {
    const name = uniqueName('bound.unused');
    bindHistogram(histogramDefinition(name), { k: 'never' });
    expect(await boundReader().metric(name)).toBeUndefined();
  });

  it('drop negative, NaN and infinite values and count them', async () => {
    const name = uniqueName('bound.invalid');
    const histogram = bindHistogram(histogramDefinition(name), {});
    const counter = bindCounter(counterDefinition(`${name}.c`), {});
    const invalidBefore = await invalidCount();
    expect(() => {
      histogram.record(-1);
      histogram.record(Number.NaN);
      histogram.record(Number.POSITIVE_INFINITY);
      counter.add(-5);
      histogram.record(0.5);
    }).not.toThrow();
    const metric = (await boundReader().metric(name)) as HistogramMetricData;
    expect(metric.dataPoints[0]?.value).toMatchObject({ count: 1, sum: 0.5 });
    expect((await invalidCount()) - invalidBefore).toBe(4);
  });

  it('report under the scope they were bound with', async () => {
    const name = uniqueName('bound.scope');
    bindCounter(counterDefinition(name), {}, { scope: '@otelkit/test-scope' }).add(1);
    const { resourceMetrics } = await boundReader().collect();
    const scope = resourceMetrics.scopeMetrics.find((s) => s.metrics.some((m) => m.descriptor.name === name));
    expect(scope?.scope.name).toBe('@otelkit/test-scope');
  });
});

async function invalidCount(): Promise<number> {
  const metric = await boundReader().metric('otelkit.metric.measurements.invalid');
  return (metric?.dataPoints[0]?.value as number | undefined) ?? 0;
}

describe('native histogram settings', () => {
  it('replaces out-of-range settings by the defaults, so recording never throws or hangs', async () => {
    const producer = createOtelkitMetricProducer({ nativeHistograms: { schema: 9.5, zeroThreshold: -1, maxBuckets: 0 } });
    try {
      const name = uniqueName('bound.native.settings');
      const histogram = bindHistogram(histogramDefinition(name), { k: 'v' });
      expect(() => {
        for (const value of [0, 1e-9, 0.5, 3, 1e9]) histogram.record(value);
      }).not.toThrow();
      const point = (await boundReader().metric(name))!.dataPoints[0] as { [POINT_EXTRAS]?: PointExtras };
      const native = point[POINT_EXTRAS]?.native;
      expect(native?.schema).toBeLessThanOrEqual(3);
      expect(native?.zeroThreshold).toBe(2 ** -128);
      expect(native!.counts.reduce((a, b) => a + b, 0) + native!.zeroCount).toBe(5);
    } finally {
      producer.detach();
    }
  });
});
