import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { HistogramMetricData, MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createTestMeterProvider, pointValue, uniqueName, type TestReader } from '../../core/test/metric-reader.js';

export { pointValue, uniqueName };

/** Real global MeterProvider + TestReader, real global tracer provider + in-memory exporter. */
export function setUpTelemetry(): { reader: TestReader; exporter: InMemorySpanExporter } {
  const { reader } = createTestMeterProvider({ global: true });
  const exporter = new InMemorySpanExporter();
  context.disable();
  trace.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  return { reader, exporter };
}

function matches(attributes: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).every(([key, value]) => attributes[key] === value);
}

/** The count of the histogram data point whose attributes include `wanted`. */
export function histogramCount(metric: MetricData | undefined, wanted: Record<string, unknown>): number | undefined {
  const point = (metric as HistogramMetricData | undefined)?.dataPoints.find((p) => matches(p.attributes, wanted));
  return point?.value.count;
}

/** Every data point's attributes of `metric` for breaker `name`. */
export function pointsFor(metric: MetricData | undefined, name: string): Record<string, unknown>[] {
  return (metric?.dataPoints ?? [])
    .map((p) => p.attributes as Record<string, unknown>)
    .filter((attributes) => attributes['circuit_breaker.name'] === name);
}
