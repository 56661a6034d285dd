import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCounter,
  ObservableGauge,
  ObservableResult,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';

/** Attribute sets one self-metric keeps before the rest go to the overflow set, as the SDK's limit does. */
const MAX_ATTRIBUTE_SETS = 200;
const OVERFLOW: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/**
 * The meter provider otelkit hands the OpenTelemetry SDK's own components (tracer, batch span
 * processor, OTLP exporters) for their `otel.sdk.*` self-observability metrics.
 *
 * Their counters and up-down counters are counted here as plain numbers per attribute set and
 * reported through one asynchronous instrument each, of the same name, unit and description, on
 * `target` (otelkit's meter provider). So:
 * - a span start costs two map lookups and two additions, not two SDK measurements with attribute
 *   hashing (the tracer counts every span it starts, the processor every span it handles);
 * - nothing is buffered or dropped while the metrics SDK loads (asynchronous instruments are read
 *   at collection), so "started = exported + dropped + queued" holds from the first span;
 * - the filter, views and cardinality limit apply as to every other metric.
 * Histograms and asynchronous instruments go to `target` unchanged.
 */
export class SelfMetricsMeterProvider implements MeterProvider {
  private readonly meters = new Map<string, SelfMetricsMeter>();

  constructor(private readonly target: MeterProvider) {}

  getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    const key = `${name}\u0000${version ?? ''}`;
    let meter = this.meters.get(key);
    if (meter === undefined) {
      meter = new SelfMetricsMeter(this.target.getMeter(name, version, options));
      this.meters.set(key, meter);
    }
    return meter;
  }
}

class SelfMetricsMeter implements Meter {
  /** One sum per instrument name: SDK components create their instruments once per instance. */
  private readonly sums = new Map<string, PlainSum>();

  constructor(private readonly target: Meter) {}

  createCounter(name: string, options?: MetricOptions): Counter {
    return this.sum(name, options, 'counter');
  }

  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.sum(name, options, 'updowncounter');
  }

  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.target.createHistogram(name, options);
  }

  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.target.createGauge(name, options);
  }

  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    return this.target.createObservableCounter(name, options);
  }

  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    return this.target.createObservableUpDownCounter(name, options);
  }

  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    return this.target.createObservableGauge(name, options);
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.target.addBatchObservableCallback(callback, observables);
  }

  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.target.removeBatchObservableCallback(callback, observables);
  }

  private sum(name: string, options: MetricOptions | undefined, kind: 'counter' | 'updowncounter'): PlainSum {
    let sum = this.sums.get(name);
    if (sum === undefined) {
      sum = new PlainSum(kind === 'counter');
      const reported =
        kind === 'counter' ? this.target.createObservableCounter(name, options) : this.target.createObservableUpDownCounter(name, options);
      const counted = sum;
      reported.addCallback((result) => counted.observe(result));
      this.sums.set(name, sum);
    }
    return sum;
  }
}

type Point = { readonly attributes: Attributes; value: number };
/** A step of the lookup: by attribute name, then by value, down to the point of that attribute set. */
type Step = { point?: Point; next?: Map<unknown, Step> };

/**
 * A counter or up-down counter kept as a number per attribute set, read at collection. The SDK's
 * components pass a fresh attribute object on every call, so the set is found by walking its names
 * and values through nested maps (no key string built, no allocation once the set is known).
 */
class PlainSum implements Counter, UpDownCounter {
  private readonly root: Step = {};
  private readonly points: Point[] = [];
  private overflow: Point | undefined;

  constructor(private readonly monotonic: boolean) {}

  add(value: number, attributes: Attributes = {}): void {
    // The SDK's components pass finite counts; anything else would poison the sum.
    if (!(value - value === 0) || (this.monotonic && value < 0)) return;
    // Past the limit no new step is made: an unknown set then ends in the overflow point.
    const grow = this.points.length < MAX_ATTRIBUTE_SETS;
    let step: Step | undefined = this.root;
    for (const name in attributes) step = stepTo(stepTo(step, name, grow), attributes[name], grow);
    (step?.point ?? this.newPoint(step, attributes)).value += value;
  }

  /** Reports every attribute set's total. */
  observe(result: ObservableResult): void {
    for (const point of this.points) result.observe(point.value, point.attributes);
  }

  private newPoint(step: Step | undefined, attributes: Attributes): Point {
    if (step === undefined || this.points.length >= MAX_ATTRIBUTE_SETS) {
      if (this.overflow === undefined) {
        this.overflow = { attributes: OVERFLOW, value: 0 };
        this.points.push(this.overflow);
      }
      return this.overflow;
    }
    const point: Point = { attributes: { ...attributes }, value: 0 };
    this.points.push(point);
    step.point = point;
    return point;
  }
}

function stepTo(step: Step | undefined, key: unknown, grow: boolean): Step | undefined {
  if (step === undefined) return undefined;
  let found = step.next?.get(key);
  if (found === undefined && grow) (step.next ??= new Map()).set(key, (found = {}));
  return found;
}
