import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { ATTR } from './catalog/attributes.js';
import { OPERATION_DURATION } from './catalog/operation.js';
import { describeError, reportOnce } from './diagnostics.js';
import { bindHistogram, type BoundHistogram } from './bound/instruments.js';
import { createInstrument } from './instruments.js';

/** Outcome of a timed operation, the `operation.outcome` attribute. */
export type OperationOutcome = 'success' | 'error';

/** Stops a manual timer; pass the error if the operation failed. Calls after the first do nothing. */
export type StopTimer = (error?: unknown) => void;

/** Times user operations into `operation.duration` (seconds, 10 ms–10 s buckets). */
export interface OperationTimer {
  /**
   * Runs `fn` and records its duration. If `fn` returns a native promise (an async function does),
   * the time runs until it settles. The result, the returned promise and any error are handed back untouched.
   */
  measure<T>(name: string, fn: () => T, attributes?: Attributes): T;
  /** Starts a timer for an operation that begins and ends in different places. */
  start(name: string, attributes?: Attributes): StopTimer;
}

/** Options of {@link createOperationTimer}. */
export type OperationTimerOptions = {
  /** `operation.type` of every measurement, e.g. `db`, `message`, `job`. */
  type?: string;
  /**
   * Meter to record through (each record then hashes its attributes, as SDK instruments do).
   * @default otelkit's bound histograms, which reach the global meter provider's readers
   */
  meter?: Meter;
};

const MAX_ERROR_TYPE_LENGTH = 64;
/** Operation names whose bound histograms a timer caches (the store's cardinality limit still applies past it). */
const MAX_BOUND_NAMES = 1000;

/**
 * `error.type` of a failure: the error's class name (`TypeError`, `QueryTimeoutError`), or
 * `_OTHER` for thrown non-errors, capped in length to keep cardinality bounded.
 */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) {
    const name = error.constructor?.name || error.name;
    if (typeof name === 'string' && name.length > 0) return name.slice(0, MAX_ERROR_TYPE_LENGTH);
  }
  return '_OTHER';
}

/**
 * Creates an operation timer. Never throws into the caller: a failure to record is reported once
 * through `diag` and otherwise ignored.
 *
 * @example
 * const db = createOperationTimer({ type: 'db' });
 * const user = await db.measure('users.find', () => pool.query('select ...'));
 * const stop = db.start('users.import'); ...; stop(error);
 */
export function createOperationTimer(options: OperationTimerOptions = {}): OperationTimer {
  let histogram: Histogram | undefined;
  // Without a meter of the caller's, durations go to bound histograms, one per (name, outcome,
  // error type) when no extra attributes are given: a record is then a bucket update.
  const bound = new Map<string, Map<string, BoundHistogram>>();
  const pointAttributes = (name: string, attributes: Attributes | undefined, errorType: string | undefined): Attributes => {
    const point: Attributes = { ...attributes, [ATTR.OPERATION_NAME]: name };
    if (options.type !== undefined) point[ATTR.OPERATION_TYPE] = options.type;
    point[ATTR.OPERATION_OUTCOME] = errorType === undefined ? 'success' : 'error';
    if (errorType !== undefined) point[ATTR.ERROR_TYPE] = errorType;
    return point;
  };
  const boundFor = (name: string, errorType: string | undefined): BoundHistogram => {
    let byOutcome = bound.get(name);
    if (byOutcome === undefined) bound.set(name, (byOutcome = new Map()));
    const key = errorType ?? '';
    let histogram = byOutcome.get(key);
    if (histogram === undefined) byOutcome.set(key, (histogram = bindHistogram(OPERATION_DURATION, pointAttributes(name, undefined, errorType))));
    return histogram;
  };
  const record = (name: string, startMs: number, attributes: Attributes | undefined, failed: boolean, error: unknown): void => {
    try {
      const seconds = (performance.now() - startMs) / 1000;
      const errorType = failed ? errorTypeOf(error) : undefined;
      if (options.meter !== undefined) {
        histogram ??= createInstrument(options.meter, OPERATION_DURATION);
        histogram.record(seconds, pointAttributes(name, attributes, errorType));
      } else if (attributes === undefined && bound.size < MAX_BOUND_NAMES) {
        boundFor(name, errorType).record(seconds);
      } else {
        bindHistogram(OPERATION_DURATION, pointAttributes(name, attributes, errorType)).record(seconds);
      }
    } catch (recordError) {
      reportOnce('operation-timer.record', `recording operation "${name}" failed: ${describeError(recordError)}`);
    }
  };

  return {
    measure<T>(name: string, fn: () => T, attributes?: Attributes): T {
      const startMs = performance.now();
      let result: T;
      try {
        result = fn();
      } catch (error) {
        record(name, startMs, attributes, true, error);
        throw error;
      }
      if (result instanceof Promise) {
        // A derived promise, so the caller's promise is returned as it is; ours never rejects.
        // Only native promises: calling then() on a lazy thenable (a knex or mongoose query) would
        // run it a second time. Such callers await inside fn instead.
        result.then(
          () => record(name, startMs, attributes, false, undefined),
          (error: unknown) => record(name, startMs, attributes, true, error),
        );
      } else {
        record(name, startMs, attributes, false, undefined);
      }
      return result;
    },
    start(name: string, attributes?: Attributes): StopTimer {
      const startMs = performance.now();
      let stopped = false;
      return (...args: [error?: unknown]) => {
        if (stopped) return;
        stopped = true;
        record(name, startMs, attributes, args.length > 0 && args[0] !== undefined, args[0]);
      };
    },
  };
}
