import type { HrTime } from '@opentelemetry/api';
import type {
  AggregationTemporality,
  CollectionResult,
  DataPointType,
  HistogramMetricData,
  MetricData,
  MetricProducer,
  ResourceMetrics,
  ScopeMetrics,
  SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { INVALID_MEASUREMENTS } from '../catalog/otelkit.js';
import { OTELKIT_VERSION } from '../meter.js';
import { metricStore, type HistogramSeries, type MetricStream, type SumSeries } from './store.js';

// Values of the SDK's enums; core imports the SDK's types only, never its code.
const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const SUM = 3 as DataPointType.SUM;
const DOUBLE = 1;

/** Options of {@link createOtelkitMetricProducer}. */
export type OtelkitMetricProducerOptions = {
  /** Attribute sets per metric stream of bound instruments (set it as for the reader). @default 2000 */
  cardinalityLimit?: number;
  /** Metrics to report, by name (the allow/deny filter); others are left out of collections. @default all */
  keep?: (metricName: string) => boolean;
};

/** A `MetricProducer` for bound instruments, with `detach()` to hand them back to the API path. */
export interface OtelkitMetricProducer extends MetricProducer {
  /** Stops this producer from keeping bound instruments on the fast path (after its reader shuts down). */
  detach(): void;
}

/**
 * The `MetricProducer` that hands the bound instruments' data ({@link bindCounter},
 * {@link bindHistogram}) to a metric reader: give it to each reader as `metricProducers`, and every
 * exporter (Prometheus, OTLP, console) sees those metrics as it sees the SDK's. While at least one is
 * attached, bound instruments aggregate in otelkit's store instead of recording through the API.
 * Data is cumulative.
 *
 * @example
 * const producer = createOtelkitMetricProducer({ cardinalityLimit: 2000 });
 * new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, metricProducers: [producer] })] });
 */
export function createOtelkitMetricProducer(options: OtelkitMetricProducerOptions = {}): OtelkitMetricProducer {
  const store = metricStore();
  if (options.cardinalityLimit !== undefined) store.cardinalityLimit = options.cardinalityLimit;
  const keep = options.keep ?? (() => true);
  store.attachedProducers++;
  let attached = true;

  return {
    collect(): Promise<CollectionResult> {
      const endTime = hrTime(Date.now());
      const byScope = new Map<string, MetricData[]>();
      for (const stream of store.streams.values()) {
        if (!keep(stream.definition.name)) continue;
        const data = metricData(stream, endTime);
        if (data === undefined) continue;
        let metrics = byScope.get(stream.scope);
        if (metrics === undefined) byScope.set(stream.scope, (metrics = []));
        metrics.push(data);
      }
      if (store.invalidMeasurements > 0 && keep(INVALID_MEASUREMENTS.name)) {
        const core = byScope.get('@otelkit/core') ?? [];
        byScope.set('@otelkit/core', core);
        core.push(invalidMeasurementsData(store.invalidMeasurements, endTime));
      }
      const scopeMetrics: ScopeMetrics[] = [...byScope].map(([name, metrics]) => ({ scope: { name, version: OTELKIT_VERSION }, metrics }));
      // The reader keeps the SDK's resource and ignores a producer's.
      const resourceMetrics = { resource: NO_RESOURCE, scopeMetrics } as unknown as ResourceMetrics;
      return Promise.resolve({ resourceMetrics, errors: [] });
    },
    detach(): void {
      if (!attached) return;
      attached = false;
      store.attachedProducers--;
    },
  };
}

const NO_RESOURCE = Object.freeze({ attributes: {} });
const processStartMs = Date.now() - performance.now();

function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

function descriptor(stream: MetricStream) {
  const { name, description, unit } = stream.definition;
  return { name, description, unit, valueType: DOUBLE };
}

function metricData(stream: MetricStream, endTime: HrTime): MetricData | undefined {
  const all = stream.overflow ? [...stream.series.values(), stream.overflow] : [...stream.series.values()];
  if (stream.definition.kind === 'histogram') {
    const points = (all as HistogramSeries[])
      .filter((series) => series.count > 0)
      .map((series) => ({
        startTime: hrTime(series.startTimeMs),
        endTime,
        attributes: series.attributes,
        value: {
          buckets: { boundaries: [...series.boundaries], counts: Array.from(series.counts) },
          sum: series.sum,
          count: series.count,
          min: series.min,
          max: series.max,
        },
      }));
    if (points.length === 0) return undefined;
    const data: HistogramMetricData = { descriptor: descriptor(stream), aggregationTemporality: CUMULATIVE, dataPointType: HISTOGRAM, dataPoints: points };
    return data;
  }
  const points = (all as SumSeries[])
    .filter((series) => series.recorded)
    .map((series) => ({ startTime: hrTime(series.startTimeMs), endTime, attributes: series.attributes, value: series.value }));
  if (points.length === 0) return undefined;
  const data: SumMetricData = {
    descriptor: descriptor(stream),
    aggregationTemporality: CUMULATIVE,
    dataPointType: SUM,
    dataPoints: points,
    isMonotonic: true,
  };
  return data;
}

function invalidMeasurementsData(count: number, endTime: HrTime): SumMetricData {
  const { name, description, unit } = INVALID_MEASUREMENTS;
  return {
    descriptor: { name, description, unit, valueType: DOUBLE },
    aggregationTemporality: CUMULATIVE,
    dataPointType: SUM,
    dataPoints: [{ startTime: hrTime(processStartMs), endTime, attributes: {}, value: count }],
    isMonotonic: true,
  };
}
