import type { MetricData } from '@opentelemetry/sdk-metrics';
import { createTestMeterProvider, type TestReader } from '../../core/test/metric-reader.js';

export { createTestMeterProvider, type TestReader };

/** The value of the data point of `metric` whose attributes include `attributes`, or undefined. */
export function pointValue(metric: MetricData | undefined, attributes: Record<string, string>): number | undefined {
  const point = metric?.dataPoints.find((p) =>
    Object.entries(attributes).every(([key, value]) => p.attributes[key] === value),
  );
  return point?.value as number | undefined;
}

/** Values of every cache metric for `name`, keyed `metric` or `metric{attr=value}`. */
export async function cacheSnapshot(reader: TestReader, name: string): Promise<Record<string, number>> {
  const snapshot: Record<string, number> = {};
  for (const metric of await reader.metrics()) {
    if (!metric.descriptor.name.startsWith('cache.')) continue;
    for (const point of metric.dataPoints) {
      if (point.attributes['cache.name'] !== name) continue;
      const extra = Object.entries(point.attributes)
        .filter(([key]) => key !== 'cache.name')
        .map(([key, value]) => `${key}=${String(value)}`);
      const key = extra.length ? `${metric.descriptor.name}{${extra.join(',')}}` : metric.descriptor.name;
      snapshot[key] = point.value as number;
    }
  }
  return snapshot;
}

let sequence = 0;
/** A cache name unique in this test run. */
export function uniqueName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}
