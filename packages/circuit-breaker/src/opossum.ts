import { contain, noteNewBinding, reportOnce, reuseBinding } from '@otelkit/core';
import { ALL_OUTCOMES, breakerHandle, BreakerRecorder, noopBreakerHandle } from './recorder.js';
import type { BreakerBridgeOptions, BreakerHandle, CircuitBreakerState } from './types.js';

/**
 * The part of an opossum `CircuitBreaker` (6 to 10) the bridge uses. A real `CircuitBreaker`
 * satisfies it; typed structurally so this package needs no opossum types at run time.
 */
export interface OpossumBreaker {
  readonly name: string;
  readonly opened: boolean;
  readonly halfOpen: boolean;
  readonly isShutdown: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

const handles = new WeakMap<object, BreakerHandle>();
/** Unbinds (stops reporting) breakers the app dropped without shutting them down. */
const collected = new FinalizationRegistry<BreakerRecorder>((recorder) => recorder.close());

function isOpossumBreaker(value: unknown): value is OpossumBreaker {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.on === 'function' &&
    typeof candidate.removeListener === 'function' &&
    typeof candidate.fire === 'function' &&
    typeof candidate.opened === 'boolean' &&
    typeof candidate.halfOpen === 'boolean'
  );
}

function stateOf(breaker: OpossumBreaker): CircuitBreakerState {
  if (breaker.halfOpen) return 'half_open';
  return breaker.opened ? 'open' : 'closed';
}

/**
 * Bridges an opossum `CircuitBreaker`: state, calls by outcome, call duration, transitions,
 * consecutive failures and last transition time, plus span events on rejections and state changes.
 * Listens to opossum's events only; every listener is contained, so results, errors, event order and
 * breaker state are the same with and without the bridge. An explicit call with options on a breaker
 * the zero-code bridge bound replaces that binding (the explicit options win). Binding the same breaker twice returns the
 * first handle. A breaker's `shutdown()` unbinds it.
 *
 * @example
 * const breaker = new CircuitBreaker(callPayments, { name: 'payments', timeout: 3000 });
 * const handle = instrumentOpossum(breaker);
 * // ... later
 * handle.unbind();
 */
export function instrumentOpossum(breaker: OpossumBreaker, options: BreakerBridgeOptions = {}): BreakerHandle {
  if (!isOpossumBreaker(breaker)) {
    reportOnce('opossum:bad-breaker', 'instrumentOpossum() needs an opossum CircuitBreaker; nothing was bound.');
    return noopBreakerHandle();
  }
  // Core's bind-once rule: an explicit call with options replaces the zero-code binding.
  const existing = reuseBinding(handles.get(breaker), () => options.name !== undefined || options.recordDuration !== undefined);
  if (existing !== undefined) return existing;
  if (breaker.isShutdown) {
    reportOnce('opossum:shutdown', 'instrumentOpossum() got a breaker that is shut down; nothing was bound.');
    return noopBreakerHandle();
  }
  const name = options?.name ?? breaker.name;
  if (typeof name !== 'string' || name === '') {
    reportOnce('opossum:bad-name', 'instrumentOpossum() needs a non-empty string name; nothing was bound.');
    return noopBreakerHandle();
  }
  const recorder = new BreakerRecorder({
    name,
    initialState: stateOf(breaker),
    states: ['closed', 'open', 'half_open'],
    outcomes: ALL_OUTCOMES,
    recordDuration: options?.recordDuration !== false,
  });
  // A timeout or a full semaphore is followed by a 'failure' event for the same error: count it once.
  let countedAlready: unknown;
  const key = `opossum "${name}" listener`;
  const untyped = <A extends unknown[]>(listener: (...args: A) => void) => listener as (...args: unknown[]) => void;
  // Listener parameters follow opossum's event signatures; the map stores them untyped.
  const listeners: Record<string, (...args: unknown[]) => void> = {
    success: untyped(contain(key, (_result: unknown, latencyMs: number) => recorder.recordCall('success', latencyMs / 1000))),
    failure: untyped(contain(key, (error: unknown, latencyMs: number) => {
      if (error !== undefined && error === countedAlready) {
        countedAlready = undefined;
        return;
      }
      recorder.recordCall('failure', latencyMs / 1000);
    })),
    timeout: untyped(contain(key, (error: unknown, latencyMs: number) => {
      countedAlready = error;
      recorder.recordCall('timeout', latencyMs / 1000);
    })),
    semaphoreLocked: untyped(contain(key, (error: unknown) => {
      countedAlready = error;
      recorder.recordCall('rejected');
    })),
    reject: untyped(contain(key, () => recorder.recordCall('rejected'))),
    fallback: untyped(contain(key, () => recorder.recordCall('fallback'))),
    open: untyped(contain(key, () => recorder.recordState('open'))),
    halfOpen: untyped(contain(key, () => recorder.recordState('half_open'))),
    close: untyped(contain(key, () => recorder.recordState('closed'))),
    // opossum removes every listener on shutdown; stop reporting too.
    shutdown: untyped(contain(key, () => handle.unbind())),
  };
  for (const [event, listener] of Object.entries(listeners)) breaker.on(event, listener);
  const handle = breakerHandle(recorder, () => {
    collected.unregister(recorder);
    for (const [event, listener] of Object.entries(listeners)) breaker.removeListener(event, listener);
    handles.delete(breaker);
  });
  handles.set(breaker, noteNewBinding(handle));
  collected.register(breaker, recorder, recorder);
  return handle;
}
