import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { bindCounter, bindHistogram, createOtelkitMetricProducer, OPERATION_DURATION, type MetricDefinition } from '@otelkit/core';
import { createTestMeterProvider, pointValue, uniqueName } from './metric-reader.js';

// No otelkit producer is attached in this file (each test file runs in its own process), so bound
// instruments must record through the global OpenTelemetry API: they work under any SDK setup.
describe('bound instruments without an otelkit producer', () => {
  it('record through the global meter provider, with the same names, attributes and buckets', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const definition: MetricDefinition<'counter'> = { name: uniqueName('fallback.calls'), kind: 'counter', unit: '{call}', description: 'd', attributes: ['k'], stability: 'otelkit' };
    bindCounter(definition, { k: 'v' }).add(3);
    bindHistogram(OPERATION_DURATION, { 'operation.name': 'x' }).record(0.02);
    expect(pointValue(await reader.metric(definition.name), { k: 'v' })).toBe(3);
    const histogram = (await reader.metric('operation.duration')) as HistogramMetricData;
    expect(histogram.dataPoints[0]?.attributes).toEqual({ 'operation.name': 'x' });
    expect(histogram.dataPoints[0]?.value.buckets.boundaries).toEqual(OPERATION_DURATION.buckets);
    expect(histogram.dataPoints[0]?.value.count).toBe(1);
  });

  it('switch to the store once a producer is attached, and back once it detaches', async () => {
    const { reader } = createTestMeterProvider({ global: true });
    const definition: MetricDefinition<'counter'> = { name: uniqueName('switch.calls'), kind: 'counter', unit: '{call}', description: 'd', attributes: [], stability: 'otelkit' };
    const counter = bindCounter(definition, {});
    const producer = createOtelkitMetricProducer();
    counter.add(5);
    const { resourceMetrics } = await producer.collect();
    const fromStore = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === definition.name);
    expect(fromStore?.dataPoints[0]?.value).toBe(5);
    expect(await reader.metric(definition.name)).toBeUndefined();
    producer.detach();
    counter.add(1);
    expect(pointValue(await reader.metric(definition.name), {})).toBe(1);
  });
});
