import { context, metrics, trace, TraceFlags, type Attributes, type Histogram, type MeterProvider, type SpanContext } from '@opentelemetry/api';
import type { MetricDefinition } from '../catalog/types.js';
import { describeError, reportOnce } from '../diagnostics.js';
import { createInstrument, type InstrumentByKind } from '../instruments.js';
import { getOtelkitMeter } from '../meter.js';
import { recordNative } from './native-buckets.js';
import { ExemplarSumSeries, metricStore, NativeHistogramSeries, type Exemplar, type HistogramSeries, type MetricStore, type SumSeries } from './store.js';

/** A counter bound to one attribute set: `add` only adds a number. */
export interface BoundCounter {
  /**
   * Adds `value` (≥ 0; anything else is dropped, counted and reported once). Never throws.
   * @param spanContext the span the measurement belongs to, for its exemplar; by default the active
   *   span. Exemplars are kept only while the SDK records spans, and only for sampled ones.
   */
  add(value: number, spanContext?: SpanContext): void;
}

/** A histogram bound to one attribute set: `record` finds a bucket by index and adds. */
export interface BoundHistogram {
  /**
   * Records `value` (≥ 0 and finite; anything else is dropped, counted and reported once). Never throws.
   * @param spanContext the span the measurement belongs to, for its bucket's exemplar; by default the
   *   active span. Exemplars are kept only while the SDK records spans, and only for sampled ones.
   */
  record(value: number, spanContext?: SpanContext): void;
}

/** Options of {@link bindCounter} and {@link bindHistogram}. */
export type BindOptions = {
  /** Instrumentation scope the metric is reported under. @default '@otelkit/core' */
  scope?: string;
};

/**
 * Binds a counter of the catalog to one attribute set, resolved once here: each `add` is then a
 * plain number update, with no attribute hashing and no allocation.
 *
 * The data reaches every exporter through the reader's `MetricProducer`
 * ({@link createOtelkitMetricProducer}, which `@otelkit/node` attaches to each of its readers).
 * While no such producer is attached (another SDK setup, or none yet), `add` records through the
 * global OpenTelemetry API instead, so the metric works under any SDK, only without the fast path.
 *
 * @example
 * const refused = bindCounter(CIRCUIT_BREAKER_CALLS, { 'circuit_breaker.name': 'quotes', 'circuit_breaker.outcome': 'rejected' });
 * refused.add(1);
 */
export function bindCounter(definition: MetricDefinition<'counter'>, attributes: Attributes, options: BindOptions = {}): BoundCounter {
  return new StoreCounter(definition, attributes, options.scope ?? DEFAULT_SCOPE);
}

/**
 * Binds an explicit-bucket histogram of the catalog (its `buckets`) to one attribute set: each
 * `record` is then a bucket search over a fixed array and four number updates.
 * Reaches exporters as {@link bindCounter} describes.
 *
 * @example
 * const duration = bindHistogram(OPERATION_DURATION, { 'operation.name': 'users.find', 'operation.outcome': 'success' });
 * duration.record(0.012);
 */
export function bindHistogram(definition: MetricDefinition<'histogram'>, attributes: Attributes, options: BindOptions = {}): BoundHistogram {
  return new StoreHistogram(definition, attributes, options.scope ?? DEFAULT_SCOPE);
}

const DEFAULT_SCOPE = '@otelkit/core';

/**
 * Counts a measurement dropped because its value was invalid (not a number, negative where the
 * instrument only adds, NaN, infinite) in `otelkit.metric.measurements.invalid`, and reports it once
 * per instrument and kind of value. For instruments that record through otelkit's meter provider;
 * bound instruments do this themselves. Never throws, whatever `value` is.
 */
export function countInvalidMeasurement(instrumentName: string, value: unknown): void {
  countInvalid(metricStore(), instrumentName, value);
}

function countInvalid(store: MetricStore, name: string, value: unknown): void {
  store.invalidMeasurements++;
  const kind =
    typeof value !== 'number' ? 'non-number' : Number.isNaN(value) ? 'NaN' : value === Infinity || value === -Infinity ? 'infinite' : 'negative';
  const shown = typeof value === 'number' ? String(value) : `of type ${typeof value}`;
  reportOnce(`invalid.${kind}.${name}`, `${name}: dropped the ${kind} measurement ${shown} (later ones are dropped silently and counted in otelkit.metric.measurements.invalid)`);
}

/**
 * What both bound instruments share: the store, the series (resolved at the first record on the fast
 * path, so the cardinality limit counts series in recording order, as the SDK does) and the API
 * instrument used while no producer is attached.
 */
abstract class StoreInstrument<S extends SumSeries | HistogramSeries, K extends 'counter' | 'histogram'> {
  protected readonly store = metricStore();
  private resolved: S | undefined;
  private fallback: InstrumentByKind[K] | undefined;
  private fallbackProvider: MeterProvider | undefined;

  constructor(
    protected readonly definition: MetricDefinition<K>,
    private readonly attributes: Attributes,
    private readonly scope: string,
  ) {}

  /** Whether `value` may be recorded; an invalid one is counted and reported once. */
  protected valid(value: number): boolean {
    // typeof first: comparing a Symbol (or an object without valueOf) with a number throws.
    if (typeof value === 'number' && value >= 0 && value !== Infinity) return true;
    countInvalid(this.store, this.definition.name, value);
    return false;
  }

  protected series(): S {
    return (this.resolved ??= this.store.stream(this.definition, this.scope).seriesFor(this.attributes) as S);
  }

  /** Records through the global API (no otelkit producer attached), on the provider in force. */
  protected recordThroughApi(value: number): void {
    try {
      const provider = metrics.getMeterProvider();
      if (this.fallback === undefined || provider !== this.fallbackProvider) {
        this.fallback = createInstrument(getOtelkitMeter(this.scope), this.definition);
        this.fallbackProvider = provider;
      }
      const instrument = this.fallback;
      if ('add' in instrument) instrument.add(value, this.attributes);
      else (instrument as Histogram).record(value, this.attributes);
    } catch (error) {
      reportOnce(`bound.fallback.${this.definition.name}`, `${this.definition.name}: record failed: ${describeError(error)}`);
    }
  }
}

/** The sampled span a measurement was recorded in (given, else the active one), or undefined. */
function sampledSpan(given: SpanContext | undefined): SpanContext | undefined {
  const spanContext = given ?? trace.getSpanContext(context.active());
  return spanContext !== undefined && (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0 ? spanContext : undefined;
}

function exemplarOf(value: number, spanContext: SpanContext): Exemplar {
  return { value, timeMs: Date.now(), traceId: spanContext.traceId, spanId: spanContext.spanId };
}

/**
 * The aligned-histogram-bucket reservoir of the specification: each bucket keeps one exemplar, each
 * measurement since the last collection equally likely to be it (reservoir sampling over the
 * bucket's offers); the exemplar stays until replaced, so a quiet bucket still shows its last one.
 */
function offerToBucket(series: HistogramSeries, bucket: number, value: number, given: SpanContext | undefined): void {
  const spanContext = sampledSpan(given);
  if (spanContext === undefined) return;
  const state = (series.bucketExemplars ??= {
    exemplars: new Array<Exemplar | undefined>(series.counts.length).fill(undefined),
    offers: new Array<number>(series.counts.length).fill(0),
  });
  const seen = ++state.offers[bucket]!;
  if (seen === 1 || Math.random() * seen < 1) state.exemplars[bucket] = exemplarOf(value, spanContext);
}

class StoreCounter extends StoreInstrument<SumSeries, 'counter'> implements BoundCounter {
  add(value: number, spanContext?: SpanContext): void {
    if (!this.valid(value)) return;
    if (this.store.attachedProducers === 0) return this.recordThroughApi(value);
    const series = this.series();
    series.value += value;
    if (this.store.exemplars && series instanceof ExemplarSumSeries) {
      // Counters keep the latest exemplar.
      try {
        const sampled = sampledSpan(spanContext);
        if (sampled !== undefined) series.exemplar = exemplarOf(value, sampled);
      } catch (error) {
        reportOnce(`bound.extras.${this.definition.name}`, `${this.definition.name}: exemplar failed: ${describeError(error)}`);
      }
    }
  }
}

class StoreHistogram extends StoreInstrument<HistogramSeries, 'histogram'> implements BoundHistogram {
  record(value: number, spanContext?: SpanContext): void {
    if (!this.valid(value)) return;
    if (this.store.attachedProducers === 0) return this.recordThroughApi(value);
    const series = this.series();
    const boundaries = series.boundaries;
    const last = boundaries.length;
    let index = 0;
    while (index < last && value > boundaries[index]!) index++;
    series.counts[index]!++;
    series.sum += value;
    series.count++;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
    if (series.hasNativeBuckets || this.store.exemplars) this.recordExtras(series, index, value, spanContext);
  }

  /** Native buckets and exemplars: contained, so a fault there costs the extras, never the caller. */
  private recordExtras(series: HistogramSeries, index: number, value: number, spanContext: SpanContext | undefined): void {
    try {
      if (series instanceof NativeHistogramSeries) recordNative(series, value, series.native);
      if (this.store.exemplars) offerToBucket(series, index, value, spanContext);
    } catch (error) {
      reportOnce(`bound.extras.${this.definition.name}`, `${this.definition.name}: native buckets or exemplar failed: ${describeError(error)}`);
    }
  }
}
