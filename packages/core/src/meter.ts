import {
  createNoopMeter,
  metrics,
  type BatchObservableCallback,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type Observable,
  type UpDownCounter,
} from '@opentelemetry/api';
import { describeError, reportOnce } from './diagnostics.js';

/** Version of the otelkit packages, reported as the instrumentation scope version. */
export const OTELKIT_VERSION = '0.1.0';

const noopMeter = createNoopMeter();
const guardedMeters = new WeakMap<Meter, Meter>();

/**
 * The meter otelkit code records through, taken from the global `MeterProvider` at call time,
 * so it works under any OpenTelemetry SDK setup (and is a no-op without one).
 *
 * It is guarded: whatever the underlying meter or its instruments throw (a broken SDK, a test double)
 * is reported once through `diag` and goes no further, so no bridge can throw into the app because of
 * it. The guard on a synchronous `record`/`add` is one try/catch; observable instruments are the SDK's
 * own objects (batch callbacks need them), and their callbacks are the bridges' job to contain.
 *
 * @param scope instrumentation scope name, e.g. `@otelkit/cache`.
 */
export function getOtelkitMeter(scope = '@otelkit/core'): Meter {
  try {
    const meter = metrics.getMeter(scope, OTELKIT_VERSION);
    // One guard per underlying meter, so callers that cache per meter (instruments shared by every
    // bound breaker) see the same object each time, as they would without the guard.
    let guarded = guardedMeters.get(meter);
    if (guarded === undefined) {
      guarded = guardMeter(meter, scope);
      guardedMeters.set(meter, guarded);
    }
    return guarded;
  } catch (error) {
    reportOnce(`meter.${scope}`, `no meter for ${scope}; its metrics are off: ${describeError(error)}`);
    return createNoopMeter();
  }
}


function guardMeter(meter: Meter, scope: string): Meter {
  const failed = (what: string, error: unknown): void => {
    reportOnce(`meter.${scope}.${what}`, `${scope}: ${what} failed and was ignored: ${describeError(error)}`);
  };
  const attempt = <T>(what: string, run: () => T, fallback: () => T): T => {
    try {
      return run();
    } catch (error) {
      failed(what, error);
      return fallback();
    }
  };
  const guardSync = <I extends Counter | UpDownCounter | Histogram | Gauge>(instrument: I, method: 'add' | 'record', what: string): I => {
    // Fixed parameters, no rest array: this sits on bridges' per-call paths.
    const inner = instrument as unknown as {
      record?: (value: number, attributes?: unknown, context?: unknown) => void;
      add?: (value: number, attributes?: unknown, context?: unknown) => void;
    };
    if (method === 'record') {
      const record = inner.record!.bind(instrument);
      return {
        record(value: number, attributes?: unknown, context?: unknown) {
          try {
            record(value, attributes, context);
          } catch (error) {
            failed(what, error);
          }
        },
      } as unknown as I;
    }
    const add = inner.add!.bind(instrument);
    return {
      add(value: number, attributes?: unknown, context?: unknown) {
        try {
          add(value, attributes, context);
        } catch (error) {
          failed(what, error);
        }
      },
    } as unknown as I;
  };
  return {
    createCounter: (name, options) =>
      attempt(`createCounter(${name})`, () => guardSync(meter.createCounter(name, options), 'add', `${name}.add`), () => noopMeter.createCounter(name)),
    createUpDownCounter: (name, options) =>
      attempt(`createUpDownCounter(${name})`, () => guardSync(meter.createUpDownCounter(name, options), 'add', `${name}.add`), () => noopMeter.createUpDownCounter(name)),
    createHistogram: (name, options) =>
      attempt(`createHistogram(${name})`, () => guardSync(meter.createHistogram(name, options), 'record', `${name}.record`), () => noopMeter.createHistogram(name)),
    createGauge: (name, options) =>
      attempt(`createGauge(${name})`, () => guardSync(meter.createGauge(name, options), 'record', `${name}.record`), () => noopMeter.createGauge(name)),
    createObservableCounter: (name, options) =>
      attempt(`createObservableCounter(${name})`, () => meter.createObservableCounter(name, options), () => noopMeter.createObservableCounter(name)),
    createObservableUpDownCounter: (name, options) =>
      attempt(`createObservableUpDownCounter(${name})`, () => meter.createObservableUpDownCounter(name, options), () => noopMeter.createObservableUpDownCounter(name)),
    createObservableGauge: (name, options) =>
      attempt(`createObservableGauge(${name})`, () => meter.createObservableGauge(name, options), () => noopMeter.createObservableGauge(name)),
    addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      attempt('addBatchObservableCallback', () => meter.addBatchObservableCallback(callback, observables), () => undefined),
    removeBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      attempt('removeBatchObservableCallback', () => meter.removeBatchObservableCallback(callback, observables), () => undefined),
  };
}
