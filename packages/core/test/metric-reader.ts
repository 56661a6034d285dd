import { metrics } from '@opentelemetry/api';
import {
  MeterProvider,
  MetricReader,
  type MetricData,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';

/** A pull reader for tests: collect() on demand, nothing exported anywhere. */
export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** Every metric collected now, across scopes. */
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new Error(`collect errors: ${errors.join(', ')}`);
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }

  /** The metric named `name`, or undefined. */
  async metric(name: string): Promise<MetricData | undefined> {
    return (await this.metrics()).find((metric) => metric.descriptor.name === name);
  }
}

/** A real MeterProvider with a TestReader, optionally installed as the global one. */
export function createTestMeterProvider(
  options: { views?: ViewOptions[]; global?: boolean } = {},
): { provider: MeterProvider; reader: TestReader } {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader], views: options.views ?? [] });
  if (options.global) {
    metrics.disable();
    metrics.setGlobalMeterProvider(provider);
  }
  return { provider, reader };
}

/** The value of the data point of `metric` whose attributes include `wanted` (undefined if none). */
export function pointValue(metric: MetricData | undefined, wanted: Record<string, unknown>): number | undefined {
  const point = metric?.dataPoints.find((p) => Object.entries(wanted).every(([key, value]) => p.attributes[key] === value));
  return point === undefined ? undefined : (point.value as number);
}

let sequence = 0;
/** A name unique in this test run (bridges bind by name; parallel files must not collide). */
export function uniqueName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}
