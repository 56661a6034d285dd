import { metrics, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import { describeError, reportOnce } from '../diagnostics.js';
import { getOtelkitMeter } from '../meter.js';

/** A batch callback registered with {@link registerBatch}; `release()` removes it for good. */
export interface BatchRegistration {
  release(): void;
}

/** What a registration creates on a meter: its instruments (as the callback wants them) and the observables among them. */
export type BatchInstruments<I> = { instruments: I; observables: Observable[] };

type Entry = {
  scope: string;
  create: (meter: Meter) => BatchInstruments<unknown>;
  callback: (result: BatchObservableResult, instruments: unknown) => void;
  meter: Meter | undefined;
  observables: Observable[];
  registered: ((result: BatchObservableResult) => void) | undefined;
};

type State = { entries: Set<Entry>; hooked: boolean };
const STATE_KEY = Symbol.for('otelkit.batch-registrations.v1');

function state(): State {
  const holder = globalThis as { [STATE_KEY]?: State };
  return (holder[STATE_KEY] ??= { entries: new Set(), hooked: false });
}

function attach(entry: Entry): void {
  const meter = getOtelkitMeter(entry.scope);
  if (meter === entry.meter) return;
  detach(entry);
  const { instruments, observables } = entry.create(meter);
  const registered = (result: BatchObservableResult): void => entry.callback(result, instruments);
  meter.addBatchObservableCallback(registered, observables);
  entry.meter = meter;
  entry.observables = observables;
  entry.registered = registered;
}

function detach(entry: Entry): void {
  if (entry.meter !== undefined && entry.registered !== undefined) entry.meter.removeBatchObservableCallback(entry.registered, entry.observables);
  entry.meter = undefined;
  entry.registered = undefined;
}

/**
 * Moves every live registration to the current global MeterProvider's meter. Runs by itself when the
 * global provider is set or disabled through the API; call it after replacing the provider some other way.
 */
export function followMeterProvider(): void {
  for (const entry of state().entries) {
    try {
      attach(entry);
    } catch (error) {
      reportOnce(`batch.follow.${entry.scope}`, `${entry.scope}: moving its metrics to the new meter provider failed: ${describeError(error)}`);
    }
  }
}

/**
 * Wraps the API's `metrics.setGlobalMeterProvider` and `metrics.disable` (once per process) so that
 * registrations follow the provider: bridges bound before the SDK starts, or before an app replaces
 * it, report to the provider in force, not to the no-op meter they saw at bind time.
 */
function hookProviderChanges(): void {
  const current = state();
  if (current.hooked) return;
  current.hooked = true;
  const api = metrics as unknown as { setGlobalMeterProvider: (provider: unknown) => boolean; disable: () => void };
  const set = api.setGlobalMeterProvider.bind(metrics);
  const disable = api.disable.bind(metrics);
  Object.defineProperty(metrics, 'setGlobalMeterProvider', {
    configurable: true,
    writable: true,
    value: (provider: unknown): boolean => {
      const result = set(provider);
      if (result) followMeterProvider();
      return result;
    },
  });
  Object.defineProperty(metrics, 'disable', {
    configurable: true,
    writable: true,
    value: (): void => {
      disable();
      followMeterProvider();
    },
  });
}

/**
 * Registers a batch observable callback on otelkit's meter for `scope` that follows the global
 * MeterProvider: `create(meter)` makes the instruments on a meter (cache them per meter if several
 * registrations share them), and `callback` gets the result and the instruments of the meter in force.
 * The one way bridges register their observable metrics.
 *
 * @example
 * const registration = registerBatch('@otelkit/pool', (meter) => ({ instruments, observables }), (result, i) => result.observe(i.count, 3));
 * registration.release();
 */
export function registerBatch<I>(
  scope: string,
  create: (meter: Meter) => BatchInstruments<I>,
  callback: (result: BatchObservableResult, instruments: I) => void,
): BatchRegistration {
  hookProviderChanges();
  const entry: Entry = {
    scope,
    create: create as (meter: Meter) => BatchInstruments<unknown>,
    callback: callback as (result: BatchObservableResult, instruments: unknown) => void,
    meter: undefined,
    observables: [],
    registered: undefined,
  };
  attach(entry);
  state().entries.add(entry);
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      state().entries.delete(entry);
      detach(entry);
    },
  };
}

/**
 * Instruments made once per meter and shared by every registration on it (every bound pool, every
 * breaker): `perMeter(create)` returns a function giving the instruments of a meter, made at first use.
 */
export function perMeter<I>(create: (meter: Meter) => I): (meter: Meter) => I {
  const byMeter = new WeakMap<Meter, I>();
  return (meter) => {
    let instruments = byMeter.get(meter);
    if (instruments === undefined) byMeter.set(meter, (instruments = create(meter)));
    return instruments;
  };
}
