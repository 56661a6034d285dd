import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createMetricNameFilter } from '@otelkit/core';
import { FilteringMetricExporter } from '@otelkit/node';

describe('allow/deny filtering of push exporters', () => {
  it('exports only the metrics the allow list keeps', async () => {
    const memory = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const exporter = new FilteringMetricExporter(memory, createMetricNameFilter({ allow: ['http.*'] }));
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('a').createCounter('http.requests').add(1);
    provider.getMeter('b').createCounter('app.secret.breaches').add(1);
    await provider.forceFlush();
    const exported = memory.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name)));
    expect(exported).toEqual(['http.requests']);
    await provider.shutdown();
  });
});
