import type { HrTime } from '@opentelemetry/api';
import type {
  CollectionResult,
  ExponentialHistogramMetricData,
  HistogramMetricData,
  MetricData,
  MetricProducer,
  ResourceMetrics,
  ScopeMetrics,
  SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { INVALID_MEASUREMENTS } from '../catalog/otelkit.js';
import { OTELKIT_VERSION } from '../meter.js';
import { reportOnce } from '../diagnostics.js';
import { DeltaConverter } from './delta.js';
import { CUMULATIVE, DOUBLE, EXPONENTIAL_HISTOGRAM, HISTOGRAM, SUM } from './sdk-values.js';
import { TimeSlicer } from '../time-slicer.js';
import { MAX_SCHEMA, MIN_SCHEMA } from './native-buckets.js';
import { ExemplarSumSeries, metricStore, NativeHistogramSeries, type Exemplar, type HistogramSeries, type MetricStream, type NativeHistogramSettings, type SumSeries } from './store.js';


/** Options of {@link createOtelkitMetricProducer}. */
export type OtelkitMetricProducerOptions = {
  /** Attribute sets per metric stream of bound instruments (set it as for the reader). @default 2000 */
  cardinalityLimit?: number;
  /** Metrics to report, by name (the allow/deny filter); others are left out of collections. @default all */
  keep?: (metricName: string) => boolean;
  /**
   * Keep exemplars: measurements made inside a sampled span remember its trace and span ids (one per
   * histogram bucket, the latest per counter). Turn on only when spans are exported. @default false
   */
  exemplars?: boolean;
  /** Keep exponential (native) buckets beside the classic ones in histograms in seconds. @default none */
  nativeHistograms?: NativeHistogramSettings;
  /**
   * How this producer reports histograms that keep exponential buckets: `explicit` (the classic
   * buckets, with the exponential ones as extras for Prometheus' native histograms) or `exponential`
   * (OpenTelemetry's base-2 exponential histogram, e.g. for an OTLP reader). @default 'explicit'
   */
  histograms?: 'explicit' | 'exponential';
  /**
   * `delta`: counters and histograms report what was recorded since this producer's previous
   * collection (for a reader that prefers delta temporality, e.g. OTLP with
   * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`). @default 'cumulative'
   */
  temporality?: 'cumulative' | 'delta';
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
  if (options.exemplars !== undefined) store.exemplars = options.exemplars;
  if (options.nativeHistograms !== undefined) store.nativeHistograms = validNativeSettings(options.nativeHistograms);
  const keep = options.keep ?? (() => true);
  const exponential = options.histograms === 'exponential';
  const delta = options.temporality === 'delta' ? new DeltaConverter() : undefined;
  store.attachedProducers++;
  let attached = true;

  return {
    async collect(): Promise<CollectionResult> {
      const endTime = hrTime(Date.now());
      const byScope = new Map<string, MetricData[]>();
      // Streams hold at most cardinalityLimit series each: slicing between streams keeps a collection
      // of many series from holding the event loop.
      const slicer = new TimeSlicer(SLICE_MS, 1);
      for (const stream of store.streams.values()) {
        if (slicer.due()) await slicer.pause();
        if (!keep(stream.definition.name)) continue;
        const data = (exponential ? exponentialData(stream, endTime) : undefined) ?? metricData(stream, endTime);
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
      const since = delta?.begin(endTime);
      const scopeMetrics: ScopeMetrics[] = [...byScope]
        .map(([name, metrics]) => ({ scope: { name, version: OTELKIT_VERSION }, metrics: delta ? delta.convert(metrics, since) : metrics }))
        .filter((scope) => scope.metrics.length > 0);
      // The reader keeps the SDK's resource and ignores a producer's.
      const resourceMetrics = { resource: NO_RESOURCE, scopeMetrics } as unknown as ResourceMetrics;
      return { resourceMetrics, errors: [] };
    },
    detach(): void {
      if (!attached) return;
      attached = false;
      store.attachedProducers--;
    },
  };
}

const NO_RESOURCE = Object.freeze({ attributes: {} });
/** One object for attribute-less points, so per-series state (delta) finds them again. */
const NO_ATTRIBUTES = Object.freeze({});
const SLICE_MS = 10;

/**
 * What a data point of a bound instrument carries beyond the SDK's data model, under this symbol
 * (exporters that do not know it ignore it): exemplars, and a histogram's native buckets. Read by
 * otelkit's Prometheus serializer.
 */
export const POINT_EXTRAS: unique symbol = Symbol.for('otelkit.point-extras.v1') as never;

/** A histogram's exponential (native) buckets at collection time. */
export type NativeHistogramSnapshot = {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  /** Index of `counts[0]`; bucket i holds values in (2^((i-1)/2^schema), 2^(i/2^schema)]. */
  offset: number;
  counts: number[];
};

/** See {@link POINT_EXTRAS}. */
export type PointExtras = {
  /** A counter's latest exemplar. */
  exemplar?: Exemplar;
  /** A histogram's exemplars by classic bucket (index as in `buckets.counts`). */
  bucketExemplars?: ReadonlyArray<Exemplar | undefined>;
  native?: NativeHistogramSnapshot;
};

/** The settings, or, for a value out of range, the default in its place (one diagnostic each). */
function validNativeSettings(settings: NativeHistogramSettings): NativeHistogramSettings {
  let { schema, zeroThreshold, maxBuckets } = settings;
  if (!Number.isInteger(schema) || schema < MIN_SCHEMA || schema > MAX_SCHEMA) {
    reportOnce('native.schema', `native histogram schema ${String(schema)} is not an integer from ${MIN_SCHEMA} to ${MAX_SCHEMA}; using 3`);
    schema = 3;
  }
  if (!(zeroThreshold >= 0) || zeroThreshold === Infinity) {
    reportOnce('native.zero-threshold', `native histogram zero threshold ${String(zeroThreshold)} is not a finite number >= 0; using 2^-128`);
    zeroThreshold = 2 ** -128;
  }
  if (!Number.isInteger(maxBuckets) || maxBuckets < 2) {
    reportOnce('native.max-buckets', `native histogram max buckets ${String(maxBuckets)} is not an integer >= 2; using 160`);
    maxBuckets = 160;
  }
  return Object.freeze({ schema, zeroThreshold, maxBuckets });
}

function histogramExtras(series: HistogramSeries): PointExtras | undefined {
  const native = series instanceof NativeHistogramSeries ? series : undefined;
  const exemplars = series.bucketExemplars;
  if (exemplars === undefined && native === undefined) return undefined;
  const extras: PointExtras = {};
  if (exemplars !== undefined) {
    extras.bucketExemplars = exemplars.exemplars.slice();
    exemplars.offers.fill(0);
  }
  if (native !== undefined) {
    extras.native = {
      schema: native.nativeSchema,
      zeroThreshold: native.native.zeroThreshold,
      zeroCount: native.nativeZeroCount,
      offset: native.nativeOffset,
      counts: native.nativeCounts.slice(),
    };
  }
  return extras;
}
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
  const all = stream.allSeries();
  const startTime = hrTime(stream.startTimeMs);
  if (stream.definition.kind === 'histogram') {
    const points = (all as HistogramSeries[])
      .filter((series) => series.count > 0)
      .map((series) => ({
        startTime,
        endTime,
        attributes: series.attributes,
        value: {
          buckets: { boundaries: series.boundaries as number[], counts: series.counts.slice() },
          sum: series.sum,
          count: series.count,
          min: series.min,
          max: series.max,
        },
        [POINT_EXTRAS]: histogramExtras(series),
      }));
    if (points.length === 0) return undefined;
    const data: HistogramMetricData = { descriptor: descriptor(stream), aggregationTemporality: CUMULATIVE, dataPointType: HISTOGRAM, dataPoints: points };
    return data;
  }
  const points = (all as SumSeries[])
    .map((series) => ({
      startTime,
      endTime,
      attributes: series.attributes,
      value: series.value,
      [POINT_EXTRAS]: series instanceof ExemplarSumSeries && series.exemplar !== undefined ? ({ exemplar: series.exemplar } satisfies PointExtras) : undefined,
    }));
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

/**
 * A histogram stream as OpenTelemetry's base-2 exponential histogram, when every series of it keeps
 * exponential buckets (else undefined: the classic form is used). Prometheus' bucket j holds
 * (2^((j-1)/2^s), 2^(j/2^s)], OpenTelemetry's bucket i holds (2^(i/2^s), 2^((i+1)/2^s)]: i = j - 1.
 */
function exponentialData(stream: MetricStream, endTime: HrTime): ExponentialHistogramMetricData | undefined {
  if (stream.definition.kind !== 'histogram') return undefined;
  const all = stream.allSeries();
  if (all.length === 0 || !all.every((series) => series instanceof NativeHistogramSeries)) return undefined;
  const startTime = hrTime(stream.startTimeMs);
  const points = (all as NativeHistogramSeries[])
    .filter((series) => series.count > 0)
    .map((series) => ({
      startTime,
      endTime,
      attributes: series.attributes,
      value: {
        count: series.count,
        sum: series.sum,
        min: series.min,
        max: series.max,
        scale: series.nativeSchema,
        zeroCount: series.nativeZeroCount,
        positive: { offset: series.nativeOffset - 1, bucketCounts: series.nativeCounts.slice() },
        negative: { offset: 0, bucketCounts: [] },
      },
    }));
  if (points.length === 0) return undefined;
  return { descriptor: descriptor(stream), aggregationTemporality: CUMULATIVE, dataPointType: EXPONENTIAL_HISTOGRAM, dataPoints: points };
}

function invalidMeasurementsData(count: number, endTime: HrTime): SumMetricData {
  const { name, description, unit } = INVALID_MEASUREMENTS;
  return {
    descriptor: { name, description, unit, valueType: DOUBLE },
    aggregationTemporality: CUMULATIVE,
    dataPointType: SUM,
    dataPoints: [{ startTime: hrTime(processStartMs), endTime, attributes: NO_ATTRIBUTES, value: count }],
    isMonotonic: true,
  };
}
