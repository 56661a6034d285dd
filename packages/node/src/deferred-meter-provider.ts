import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Context,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
} from '@opentelemetry/api';
import { describeError, reportOnce } from '@otelkit/core';
import { validCounter, validGauge, validHistogram, validUpDownCounter } from './valid-measurements.js';

/** Measurements of synchronous instruments kept while the SDK loads; past this they are dropped and counted. */
const MAX_BUFFERED_MEASUREMENTS = 10_000;
/** Buffered measurements past which the SDK is asked to load at once (`onPressure`). */
const PRESSURE_MEASUREMENTS = 1_000;

type SyncKind = 'counter' | 'updowncounter' | 'histogram' | 'gauge';
type ObservableKind = 'observable-counter' | 'observable-updowncounter' | 'observable-gauge';
type Measurement = [value: number, attributes: Attributes | undefined, context: Context | undefined];

/**
 * The global `MeterProvider` from the first moment of start-up, while the metrics SDK loads off the
 * start-up path. Meters, instruments and callbacks taken from it before the SDK is there are
 * created on the SDK's provider once it is (`setDelegate`), with their callbacks; measurements of
 * synchronous instruments in between are kept (up to 10,000) and replayed. After that every call
 * goes straight to the SDK's objects. otelkit's own hot paths do not pass through here (bound
 * instruments aggregate in core's store).
 */
export class DeferredMeterProvider implements MeterProvider {
  private delegate: MeterProvider | undefined;
  private readonly meters = new Map<string, DeferredMeter>();
  /** Measurements dropped because the buffer was full before the SDK loaded. */
  dropped = 0;
  private buffered = 0;

  /** @param onPressure called once, when 1,000 measurements wait: the SDK should load now. */
  constructor(private readonly onPressure: () => void = () => undefined) {}

  getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    const key = `${name}\u0000${version ?? ''}\u0000${options?.schemaUrl ?? ''}`;
    let meter = this.meters.get(key);
    if (meter === undefined) {
      meter = new DeferredMeter(this, name, version, options);
      if (this.delegate) meter.setDelegate(this.delegate);
      this.meters.set(key, meter);
    }
    return meter;
  }

  /** Hands everything taken so far to the SDK's provider, and every later call. */
  setDelegate(provider: MeterProvider): void {
    if (this.delegate) return;
    this.delegate = provider;
    for (const meter of this.meters.values()) meter.setDelegate(provider);
    if (this.dropped > 0) {
      reportOnce('deferred-meter.dropped', `${this.dropped} measurements taken before the metrics SDK loaded were dropped (buffer full); counted in otelkit.metric.measurements.dropped`);
    }
  }

  /** Whether one more measurement may be buffered. */
  reserve(): boolean {
    if (this.buffered >= MAX_BUFFERED_MEASUREMENTS) {
      this.dropped++;
      return false;
    }
    if (++this.buffered === PRESSURE_MEASUREMENTS) {
      try {
        this.onPressure();
      } catch (error) {
        reportOnce('deferred-meter.pressure', `could not load the metrics SDK early: ${describeError(error)}`);
      }
    }
    return true;
  }
}

class DeferredMeter implements Meter {
  private delegate: Meter | undefined;
  private readonly syncInstruments: DeferredSyncInstrument[] = [];
  private readonly observables: DeferredObservable[] = [];
  private readonly batchCallbacks = new Map<BatchObservableCallback, Observable[]>();
  /** The SDK-facing wrapper of each batch callback (it maps our observables to the SDK's). */
  /** Weak: an app that adds and removes callbacks over time leaves nothing behind here. */
  private readonly wrappedBatchCallbacks = new WeakMap<BatchObservableCallback, BatchObservableCallback>();

  constructor(
    private readonly provider: DeferredMeterProvider,
    private readonly name: string,
    private readonly version: string | undefined,
    private readonly options: MeterOptions | undefined,
  ) {}

  // Synchronous instruments check their values (valid-measurements.ts), before and after the SDK loads.
  createCounter(name: string, options?: MetricOptions) {
    return validCounter(name, this.delegate?.createCounter(name, options) ?? this.sync('counter', name, options));
  }
  createUpDownCounter(name: string, options?: MetricOptions) {
    return validUpDownCounter(name, this.delegate?.createUpDownCounter(name, options) ?? this.sync('updowncounter', name, options));
  }
  createHistogram(name: string, options?: MetricOptions) {
    return validHistogram(name, this.delegate?.createHistogram(name, options) ?? this.sync('histogram', name, options));
  }
  createGauge(name: string, options?: MetricOptions) {
    return validGauge(name, this.delegate?.createGauge(name, options) ?? this.sync('gauge', name, options));
  }
  createObservableCounter(name: string, options?: MetricOptions) {
    return this.delegate?.createObservableCounter(name, options) ?? this.observable('observable-counter', name, options);
  }
  createObservableUpDownCounter(name: string, options?: MetricOptions) {
    return this.delegate?.createObservableUpDownCounter(name, options) ?? this.observable('observable-updowncounter', name, options);
  }
  createObservableGauge(name: string, options?: MetricOptions) {
    return this.delegate?.createObservableGauge(name, options) ?? this.observable('observable-gauge', name, options);
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    if (this.delegate) {
      // Only callbacks that may observe our deferred observables need the mapping wrapper (and an entry kept for it).
      if (!observables.some(isDeferred)) return this.delegate.addBatchObservableCallback(callback, observables);
      return this.delegate.addBatchObservableCallback(this.wrap(callback), observables.map(sdkObservable));
    }
    this.batchCallbacks.set(callback, [...(this.batchCallbacks.get(callback) ?? []), ...observables]);
  }

  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    if (this.delegate) {
      // The same rule as add: the SDK removes only the exact (callback, observables) it was given.
      if (!observables.some(isDeferred)) return this.delegate.removeBatchObservableCallback(callback, observables);
      return this.delegate.removeBatchObservableCallback(this.wrap(callback), observables.map(sdkObservable));
    }
    const remaining = (this.batchCallbacks.get(callback) ?? []).filter((observable) => !observables.includes(observable));
    if (remaining.length > 0) this.batchCallbacks.set(callback, remaining);
    else this.batchCallbacks.delete(callback);
  }

  setDelegate(provider: MeterProvider): void {
    const meter = provider.getMeter(this.name, this.version, this.options);
    for (const instrument of this.observables) instrument.setDelegate(meter);
    for (const instrument of this.syncInstruments) instrument.setDelegate(meter);
    this.delegate = meter;
    for (const [callback, observables] of this.batchCallbacks) meter.addBatchObservableCallback(this.wrap(callback), observables.map(sdkObservable));
    this.batchCallbacks.clear();
  }

  private wrap(callback: BatchObservableCallback): BatchObservableCallback {
    let wrapped = this.wrappedBatchCallbacks.get(callback);
    if (wrapped === undefined) {
      wrapped = (result: BatchObservableResult) =>
        callback({ observe: (observable, value, attributes) => result.observe(sdkObservable(observable), value, attributes) });
      this.wrappedBatchCallbacks.set(callback, wrapped);
    }
    return wrapped;
  }

  private sync(kind: SyncKind, name: string, options: MetricOptions | undefined): DeferredSyncInstrument {
    const instrument = new DeferredSyncInstrument(this.provider, kind, name, options);
    this.syncInstruments.push(instrument);
    return instrument;
  }

  private observable(kind: ObservableKind, name: string, options: MetricOptions | undefined): DeferredObservable {
    const instrument = new DeferredObservable(kind, name, options);
    this.observables.push(instrument);
    return instrument;
  }
}

/** The SDK's observable behind one of ours (or the SDK's own, created after the delegate was set). */
function isDeferred(observable: Observable): boolean {
  return observable instanceof DeferredObservable;
}

function sdkObservable(observable: Observable): Observable {
  return observable instanceof DeferredObservable ? (observable.delegate ?? observable) : observable;
}

class DeferredSyncInstrument {
  private delegate: { add?(value: number, attributes?: Attributes, context?: Context): void; record?(value: number, attributes?: Attributes, context?: Context): void } | undefined;
  private buffer: Measurement[] = [];

  constructor(
    private readonly provider: DeferredMeterProvider,
    private readonly kind: SyncKind,
    private readonly name: string,
    private readonly options: MetricOptions | undefined,
  ) {}

  add(value: number, attributes?: Attributes, context?: Context): void {
    this.measure(value, attributes, context);
  }

  record(value: number, attributes?: Attributes, context?: Context): void {
    this.measure(value, attributes, context);
  }

  setDelegate(meter: Meter): void {
    const { name, options } = this;
    this.delegate =
      this.kind === 'counter'
        ? meter.createCounter(name, options)
        : this.kind === 'updowncounter'
          ? meter.createUpDownCounter(name, options)
          : this.kind === 'histogram'
            ? meter.createHistogram(name, options)
            : meter.createGauge(name, options);
    for (const [value, attributes, context] of this.buffer.splice(0)) this.forward(value, attributes, context);
  }

  private measure(value: number, attributes: Attributes | undefined, context: Context | undefined): void {
    if (this.delegate) this.forward(value, attributes, context);
    else if (this.provider.reserve()) this.buffer.push([value, attributes, context]);
  }

  private forward(value: number, attributes: Attributes | undefined, context: Context | undefined): void {
    const delegate = this.delegate!;
    if (delegate.add) delegate.add(value, attributes, context);
    else delegate.record!(value, attributes, context);
  }
}

class DeferredObservable implements Observable {
  delegate: (Observable & object) | undefined;
  private readonly callbacks = new Set<ObservableCallback>();

  constructor(
    private readonly kind: ObservableKind,
    private readonly name: string,
    private readonly options: MetricOptions | undefined,
  ) {}

  addCallback(callback: ObservableCallback): void {
    if (this.delegate) this.delegate.addCallback(callback);
    else this.callbacks.add(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    if (this.delegate) this.delegate.removeCallback(callback);
    else this.callbacks.delete(callback);
  }

  setDelegate(meter: Meter): void {
    const { name, options } = this;
    this.delegate =
      this.kind === 'observable-counter'
        ? meter.createObservableCounter(name, options)
        : this.kind === 'observable-updowncounter'
          ? meter.createObservableUpDownCounter(name, options)
          : meter.createObservableGauge(name, options);
    for (const callback of this.callbacks) this.delegate.addCallback(callback);
    this.callbacks.clear();
  }
}
