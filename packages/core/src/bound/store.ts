import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { MetricDefinition } from '../catalog/types.js';
import type { NativeBucketSettings, NativeBucketState } from './native-buckets.js';

/**
 * The process-wide store behind bound instruments: per metric, one series per attribute set,
 * aggregated in place (plain numbers, a fixed bucket array). A `MetricProducer` reads it at
 * collection time; recording never hashes attributes or allocates.
 *
 * Kept on `globalThis` under a registered symbol, so two copies of `@otelkit/core` in one process
 * (a bridge resolving its own copy) still share one store and one producer.
 */
export class MetricStore {
  /** Streams by metric name; the first definition registered for a name wins. */
  readonly streams = new Map<string, MetricStream>();
  /** Producers currently attached to a reader: while > 0, bound instruments aggregate here. */
  attachedProducers = 0;
  /** Attribute sets per metric stream, as the SDK's `aggregationCardinalityLimit` counts them. */
  cardinalityLimit = 2000;
  /** Measurements dropped because they were negative, NaN or infinite (reported once through diag). */
  invalidMeasurements = 0;
  /**
   * Whether measurements keep exemplars (the trace-based filter: only inside a sampled span). Off
   * unless the SDK records spans, so metrics-only processes pay nothing for them.
   */
  exemplars = false;
  /**
   * Exponential ("native") buckets kept beside the classic ones by histograms in seconds, or
   * undefined for none. Applies to series created after it is set.
   */
  nativeHistograms: NativeHistogramSettings | undefined = undefined;

  /** The stream of `definition` (created on first use) in instrumentation scope `scope`. */
  stream(definition: MetricDefinition, scope: string): MetricStream {
    let stream = this.streams.get(definition.name);
    if (stream === undefined) {
      stream = new MetricStream(definition, scope, this);
      this.streams.set(definition.name, stream);
    }
    return stream;
  }
}

/** How native (exponential) histogram buckets are kept. */
export type NativeHistogramSettings = {
  /** Resolution: bucket boundaries grow by 2^(2^-schema) (schema 3: ~9 % per bucket). -4..8. */
  schema: number;
  /** Values at or below this count in the zero bucket. */
  zeroThreshold: number;
  /** Buckets per series before the schema drops by one (resolution halves). */
  maxBuckets: number;
};

/**
 * One exemplar: a measurement and the sampled span it was recorded in (OpenMetrics' `trace_id` and
 * `span_id` labels), with its time.
 */
export type Exemplar = { value: number; timeMs: number; traceId: string; spanId: string };

const NO_NATIVE_COUNTS: number[] = [];

/** The attributes of the series that every attribute set past the cardinality limit folds into. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** One metric: its definition, scope and series by attribute set. */
export class MetricStream {
  readonly series = new Map<string, Series>();
  overflow: Series | undefined;
  readonly boundaries: readonly number[];
  /**
   * Start of every series' cumulative aggregation: the stream's creation (a series created later
   * was 0 until then, so the start holds for it too); kept once per stream, not per series.
   */
  readonly startTimeMs = Date.now();

  constructor(
    readonly definition: MetricDefinition,
    readonly scope: string,
    private readonly store: MetricStore,
  ) {
    this.boundaries = Object.freeze([...(definition.buckets ?? [])]);
  }

  /** Every series, the overflow one last. */
  allSeries(): Series[] {
    return this.overflow ? [...this.series.values(), this.overflow] : [...this.series.values()];
  }

  /**
   * The series of `attributes`: an existing one, a new one, or, once the stream holds
   * `cardinalityLimit - 1` sets (the SDK's rule), the overflow series.
   */
  seriesFor(attributes: Attributes): Series {
    const key = attributeKey(attributes);
    const existing = this.series.get(key);
    if (existing !== undefined) return existing;
    if (this.series.size >= this.store.cardinalityLimit - 1) {
      this.overflow ??= this.newSeries(OVERFLOW_ATTRIBUTES);
      return this.overflow;
    }
    // A copy (not frozen: freezing a spread copy costs V8 ~120 bytes more per series).
    const created = this.newSeries({ ...attributes });
    this.series.set(key, created);
    return created;
  }

  /**
   * A new series. What a series may never need has no field in it (each field costs every series
   * 4 to 10 bytes): exemplar fields only when exemplars are on at its creation, native buckets only
   * for histograms in seconds while native histograms are on.
   */
  private newSeries(attributes: Attributes): Series {
    if (this.definition.kind !== 'histogram') return this.store.exemplars ? new ExemplarSumSeries(attributes) : new SumSeries(attributes);
    const native = this.store.nativeHistograms;
    return native !== undefined && this.definition.unit === 's'
      ? new NativeHistogramSeries(attributes, this.boundaries, native)
      : new HistogramSeries(attributes, this.boundaries);
  }
}

/** A cumulative sum series (counter); it exists once something was recorded in it. */
export class SumSeries {
  value = 0;

  constructor(readonly attributes: Attributes) {}
}

/** A sum series that keeps the latest measurement recorded in a sampled span. */
export class ExemplarSumSeries extends SumSeries {
  exemplar: Exemplar | undefined = undefined;
}

/**
 * One exemplar per classic bucket (the aligned-histogram-bucket reservoir); `offers` counts
 * measurements per bucket since the last collection, so each bucket keeps a uniformly sampled one.
 */
export type BucketExemplars = { exemplars: Array<Exemplar | undefined>; offers: number[] };

/** A cumulative explicit-bucket histogram series: bucket i counts values in (b[i-1], b[i]]. */
export class HistogramSeries {
  /** Per-bucket counts; a plain array of small integers (4 bytes each in V8, less than a typed array). */
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** Exemplars by bucket, allocated at the first exemplar. */
  bucketExemplars: BucketExemplars | undefined = undefined;

  constructor(
    readonly attributes: Attributes,
    readonly boundaries: readonly number[],
  ) {
    this.counts = [0].concat(new Array<number>(boundaries.length).fill(0));
  }
}

/**
 * Whether a histogram series keeps native buckets: on the prototypes (no memory per series), read as
 * one property on the record path instead of an `instanceof`.
 */
export interface HistogramSeries {
  readonly hasNativeBuckets: boolean;
}
Object.defineProperty(HistogramSeries.prototype, 'hasNativeBuckets', { value: false });

/** A histogram series that also keeps exponential (native) buckets (see native-buckets.ts). */
export class NativeHistogramSeries extends HistogramSeries implements NativeBucketState {
  nativeSchema: number;
  nativeZeroCount = 0;
  nativeOffset = 0;
  nativeCounts: number[] = NO_NATIVE_COUNTS;

  constructor(
    attributes: Attributes,
    boundaries: readonly number[],
    readonly native: NativeBucketSettings,
  ) {
    super(attributes, boundaries);
    this.nativeSchema = native.schema;
  }
}
Object.defineProperty(NativeHistogramSeries.prototype, 'hasNativeBuckets', { value: true });

export type Series = SumSeries | HistogramSeries;

/**
 * A stable key for an attribute set (computed once, at bind time): its entries sorted by key, plain
 * strings as they are (short: every series keeps its key), anything else (numbers, booleans, arrays,
 * text holding the separators) as tagged JSON, so `200` and `"200"` stay apart and no two sets share
 * a key.
 */
export function attributeKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length > 1) keys.sort();
  let key = '';
  for (const name of keys) {
    const value = attributes[name];
    if (value === undefined) continue;
    if (key !== '') key += '\u0001';
    if (typeof value === 'string' && !SEPARATORS.test(name) && !SEPARATORS.test(value)) key += `${name}\u0000${value}`;
    // Anything else, and text holding the separators themselves, in an unambiguous (JSON) form.
    else key += `\u0002${JSON.stringify([name, typeTag(value), value])}`;
  }
  return key;
}

const SEPARATORS = /[\u0000-\u0002]/;

function typeTag(value: AttributeValue): string {
  return typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : typeof value === 'boolean' ? 'b' : 'a';
}

const STORE_KEY = Symbol.for('otelkit.metric-store.v1');

/** The process's one store (shared by every copy of `@otelkit/core`). */
export function metricStore(): MetricStore {
  const holder = globalThis as { [STORE_KEY]?: MetricStore };
  holder[STORE_KEY] ??= new MetricStore();
  return holder[STORE_KEY];
}
