import { ATTR, contain, describeError, reportOnce, shadowMethod } from '@otelkit/core';
import { breakerHandle, BreakerRecorder, noopBreakerHandle } from './recorder.js';
import { addActiveSpanEvent } from './span-events.js';
import type { BreakerBridgeOptions, BreakerHandle, CircuitBreakerOutcome, CircuitBreakerState } from './types.js';

/** A cockatiel event: subscribe with a listener, get back something to dispose. */
export type CockatielEvent<T> = (listener: (data: T) => void) => { dispose(): void };

/** The part of a cockatiel (3.x) `CircuitBreakerPolicy` the bridge uses. */
export interface CockatielCircuitBreaker {
  /** cockatiel's `CircuitState`: 0 closed, 1 open, 2 half-open, 3 isolated. */
  readonly state: number;
  readonly onStateChange: CockatielEvent<number>;
  readonly onSuccess: CockatielEvent<{ duration: number }>;
  readonly onFailure: CockatielEvent<{ duration: number; handled: boolean; reason: { error: unknown } | { value: unknown } }>;
}

/** The part of a cockatiel `BulkheadPolicy` the bridge uses. */
export interface CockatielBulkhead {
  readonly onReject: CockatielEvent<void>;
}

/** The part of a cockatiel `TimeoutPolicy` the bridge uses. */
export interface CockatielTimeout {
  readonly onTimeout: CockatielEvent<void>;
}

/** The part of a cockatiel `RetryPolicy` the bridge uses. */
export interface CockatielRetry {
  readonly onRetry: CockatielEvent<{ attempt: number; delay: number }>;
  readonly onGiveUp: CockatielEvent<unknown>;
}

/** Options of {@link instrumentCockatiel}. */
export interface CockatielBridgeOptions extends BreakerBridgeOptions {
  /** `circuit_breaker.name`: cockatiel breakers have no name of their own. @example 'payments' */
  name: string;
  /** A bulkhead in front of the breaker: its rejections count as `rejected` calls (and span events). */
  bulkhead?: CockatielBulkhead;
  /** A timeout policy used with the breaker: each timeout adds a `circuit_breaker.timeout` span event. */
  timeout?: CockatielTimeout;
  /** A retry policy used with the breaker: retries and give-ups add span events. */
  retry?: CockatielRetry;
}

/** Span event names for cockatiel's retry and timeout policies. */
export const RETRY_EVENT = 'circuit_breaker.retry';
/** Span event added when a cockatiel retry policy gives up. */
export const GIVE_UP_EVENT = 'circuit_breaker.retry_give_up';
/** Span event added when a cockatiel timeout policy cancels a call. */
export const TIMEOUT_EVENT = 'circuit_breaker.timeout';

const STATES: readonly CircuitBreakerState[] = ['closed', 'open', 'half_open', 'isolated'];
const CLOSED = 0;
const handles = new WeakMap<object, BreakerHandle>();

function isEvent(value: unknown): boolean {
  return typeof value === 'function';
}

function isCockatielBreaker(value: unknown): value is CockatielCircuitBreaker {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.state === 'number' &&
    isEvent(candidate.onStateChange) &&
    isEvent(candidate.onSuccess) &&
    isEvent(candidate.onFailure) &&
    typeof candidate.execute === 'function'
  );
}

/** cockatiel's `BrokenCircuitError` / `IsolatedCircuitError`: what an open or isolated breaker throws instead of calling. */
function isRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const flags = error as { isBrokenCircuitError?: unknown; isIsolatedCircuitError?: unknown };
  return flags.isBrokenCircuitError === true || flags.isIsolatedCircuitError === true;
}

/**
 * cockatiel emits no event when an open breaker refuses a call, so the bridge puts a pass-through
 * `execute` on the policy instance (an own property over the prototype's method, deleted again on
 * unbind) that notes refusals. The caller gets a promise settling exactly as cockatiel's (same value,
 * same error object; still unhandled if the caller ignores it). A refusal rethrown through cockatiel's
 * own re-entrant `execute` (half-open) is counted once.
 */
function observeRefusals(breaker: CockatielCircuitBreaker, onRefusal: () => void): () => void {
  const counted = new WeakSet<object>();
  type Execute = (this: unknown, fn: unknown, signal?: unknown) => unknown;
  return shadowMethod<Execute>(breaker, 'execute', (original, isActive) =>
    // Two fixed parameters (cockatiel's fn and signal), not a rest array: this is on every call.
    function otelkitCockatielExecute(this: unknown, fn: unknown, signal?: unknown): unknown {
      // A closed breaker cannot refuse: a BrokenCircuitError out of it comes from another (inner)
      // breaker inside the call, and is not this breaker's rejection. Closed calls also pay nothing here.
      const refusable = breaker.state !== CLOSED;
      const result = arguments.length <= 2 ? original.call(this, fn, signal) : (original as (...args: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
      if (!isActive() || !refusable || !(result instanceof Promise)) return result;
      return result.then(undefined, (error: unknown) => {
        if (isRefusal(error) && !counted.has(error as object)) {
          counted.add(error as object);
          onRefusal();
        }
        throw error;
      });
    },
  );
}

/** cockatiel's `TaskCancelledError` (what its timeout policy throws) carries this flag. */
function isTaskCancelled(reason: { error: unknown } | { value: unknown }): boolean {
  if (!('error' in reason)) return false;
  const error = reason.error as { isTaskCancelledError?: unknown } | null;
  return typeof error === 'object' && error !== null && error.isTaskCancelledError === true;
}

/**
 * Bridges a cockatiel `CircuitBreakerPolicy` (plus, optionally, the bulkhead, timeout and retry
 * policies used with it): state (with `isolated`), calls by outcome (a call cancelled by a cockatiel
 * timeout counts as `timeout`), call duration, transitions, consecutive failures, last transition time.
 * Calls an open or isolated breaker refuses count as `rejected` (with a span event), as do a given
 * bulkhead's rejections; `fallback` is not reported (a cockatiel fallback is a separate policy).
 *
 * @example
 * const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
 * const handle = instrumentCockatiel(breaker, { name: 'payments' });
 * await breaker.execute(() => callPayments());
 * handle.unbind();
 */
export function instrumentCockatiel(breaker: CockatielCircuitBreaker, options: CockatielBridgeOptions): BreakerHandle {
  if (!isCockatielBreaker(breaker)) {
    reportOnce('cockatiel:bad-breaker', 'instrumentCockatiel() needs a cockatiel CircuitBreakerPolicy; nothing was bound.');
    return noopBreakerHandle();
  }
  const existing = handles.get(breaker);
  if (existing?.bound) return existing;
  const name = options?.name;
  if (typeof name !== 'string' || name === '') {
    reportOnce('cockatiel:bad-name', 'instrumentCockatiel() needs options.name, a non-empty string; nothing was bound.');
    return noopBreakerHandle();
  }
  const bulkhead = options.bulkhead !== undefined && isEvent(options.bulkhead?.onReject) ? options.bulkhead : undefined;
  const timeout = options.timeout !== undefined && isEvent(options.timeout?.onTimeout) ? options.timeout : undefined;
  const retry =
    options.retry !== undefined && isEvent(options.retry?.onRetry) && isEvent(options.retry?.onGiveUp)
      ? options.retry
      : undefined;
  if ((options.bulkhead && !bulkhead) || (options.timeout && !timeout) || (options.retry && !retry))
    reportOnce('cockatiel:bad-policy', 'instrumentCockatiel(): a bulkhead, timeout or retry option is not a cockatiel policy; it was ignored.');

  const key = `cockatiel "${name}" listener`;
  // Shadow `execute` first: on a policy that cannot take own properties (frozen) nothing else is done.
  let restoreExecute: () => void;
  try {
    restoreExecute = observeRefusals(breaker, contain(key, () => recorder.recordCall('rejected')));
  } catch (error) {
    reportOnce('cockatiel:frozen', `instrumentCockatiel(): the policy's execute cannot be wrapped (frozen?); nothing was bound: ${describeError(error)}`);
    return noopBreakerHandle();
  }
  const outcomes: CircuitBreakerOutcome[] = ['success', 'failure', 'timeout', 'rejected'];
  const recorder = new BreakerRecorder({
    name,
    initialState: STATES[breaker.state] ?? 'closed',
    states: STATES,
    outcomes,
    recordDuration: options?.recordDuration !== false,
  });
  // The name the series report under (`name#2` when another live breaker has `name`).
  const nameAttributes = { [ATTR.CIRCUIT_BREAKER_NAME]: recorder.name };
  const subscriptions: { dispose(): void }[] = [
    breaker.onStateChange(
      contain(key, (state: number) => {
        const next = STATES[state];
        if (next !== undefined) recorder.recordState(next);
      }),
    ),
    breaker.onSuccess(contain(key, (event) => recorder.recordCall('success', event.duration / 1000))),
    breaker.onFailure(
      contain(key, (event) => {
        // An error the policy does not handle passes through without counting against the breaker.
        if (event.handled === false) return;
        recorder.recordCall(isTaskCancelled(event.reason) ? 'timeout' : 'failure', event.duration / 1000);
      }),
    ),
  ];
  if (bulkhead) subscriptions.push(bulkhead.onReject(contain(key, () => recorder.recordCall('rejected'))));
  if (timeout)
    subscriptions.push(timeout.onTimeout(contain(key, () => addActiveSpanEvent(TIMEOUT_EVENT, nameAttributes))));
  if (retry) {
    subscriptions.push(
      retry.onRetry(
        contain(key, (event) =>
          addActiveSpanEvent(RETRY_EVENT, { ...nameAttributes, 'retry.attempt': event.attempt, 'retry.delay_ms': event.delay }),
        ),
      ),
      retry.onGiveUp(contain(key, () => addActiveSpanEvent(GIVE_UP_EVENT, nameAttributes))),
    );
  }
  const handle = breakerHandle(recorder, () => {
    restoreExecute();
    for (const subscription of subscriptions) subscription.dispose();
    handles.delete(breaker);
  });
  handles.set(breaker, handle);
  return handle;
}
