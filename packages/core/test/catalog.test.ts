import { DataPointType, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  createInstrument,
  DURATION_BUCKETS_SECONDS,
  HTTP_SERVER_REQUEST_DURATION,
  METRIC_CATALOG,
  OPERATION_DURATION,
  otelkitViews,
} from '@otelkit/core';
import { createTestMeterProvider } from './metric-reader.js';

describe('metric catalog', () => {
  it('defines each name once, with a UCUM unit, a description and attribute keys', () => {
    const names = METRIC_CATALOG.map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of METRIC_CATALOG) {
      expect(metric.name).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/);
      expect(metric.unit).toMatch(/^(s|By|1|\{[a-z_]+\})$/);
      expect(metric.description.length).toBeGreaterThan(10);
      if (metric.kind === 'histogram') expect(metric.buckets).toEqual(DURATION_BUCKETS_SECONDS);
    }
  });

  it('pins the duration buckets to 10 ms .. 10 s', () => {
    expect(DURATION_BUCKETS_SECONDS).toEqual([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });

  it('creates each instrument with its name, unit and description on a real SDK', async () => {
    const { provider, reader } = createTestMeterProvider();
    const meter = provider.getMeter('test');
    for (const definition of METRIC_CATALOG) {
      const instrument = createInstrument(meter, definition) as unknown as Record<string, unknown>;
      if (typeof instrument.add === 'function') (instrument.add as (v: number) => void)(1);
      if (typeof instrument.record === 'function') (instrument.record as (v: number) => void)(0.3);
      if (typeof instrument.addCallback === 'function')
        (instrument.addCallback as (cb: (r: { observe(v: number): void }) => void) => void)((r) => r.observe(1));
    }
    const collected = await reader.metrics();
    for (const definition of METRIC_CATALOG) {
      const metric = collected.find((m) => m.descriptor.name === definition.name);
      expect(metric, definition.name).toBeDefined();
      expect(metric?.descriptor.unit).toBe(definition.unit);
      expect(metric?.descriptor.description).toBe(definition.description);
    }
  });

  it('applies the buckets as advice, with no view installed', async () => {
    const { provider, reader } = createTestMeterProvider();
    createInstrument(provider.getMeter('test'), OPERATION_DURATION).record(0.3);
    const metric = (await reader.metric('operation.duration')) as HistogramMetricData;
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric.dataPoints[0]?.value.buckets.boundaries).toEqual(DURATION_BUCKETS_SECONDS);
  });

  it('applies the buckets through views to a histogram otelkit did not create', async () => {
    const { provider, reader } = createTestMeterProvider({ views: otelkitViews() });
    // As instrumentation-http creates it: semconv advice, which our view must override.
    provider
      .getMeter('@opentelemetry/instrumentation-http')
      .createHistogram(HTTP_SERVER_REQUEST_DURATION.name, {
        unit: 's',
        advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
      })
      .record(0.3);
    const metric = (await reader.metric(HTTP_SERVER_REQUEST_DURATION.name)) as HistogramMetricData;
    expect(metric.dataPoints[0]?.value.buckets.boundaries).toEqual(DURATION_BUCKETS_SECONDS);
    expect(metric.dataPoints[0]?.value.count).toBe(1);
  });
});
