import { createTestMeterProvider, pointValue, uniqueName, type TestReader } from '../../core/test/metric-reader.js';

export { createTestMeterProvider, pointValue, uniqueName, type TestReader };

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
