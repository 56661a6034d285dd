import type { ReadinessCheck, ReadinessResult } from '@otelkit/core';
import { recorderOf, recordersNamed, type BreakerRecorder } from './recorder.js';
import type { BreakerHandle, CircuitBreakerState } from './types.js';

/** Options of {@link breakerReadinessCheck}. */
export interface BreakerReadinessOptions {
  /**
   * States in which the service is reported not ready.
   * @default ['open', 'isolated']
   */
  notReadyStates?: readonly CircuitBreakerState[];
}

/**
 * Builds a readiness check for `@otelkit/node`'s `addReadinessCheck(name, check)`: not ready while the
 * breaker (a handle, or every bound breaker with that `circuit_breaker.name`) is open. A name with no
 * bound breaker, or an unbound handle, is ready (there is nothing failing fast). Opt-in.
 *
 * @example
 * addReadinessCheck('payments-breaker', breakerReadinessCheck('payments'));
 */
export function breakerReadinessCheck(
  breaker: BreakerHandle | string,
  options: BreakerReadinessOptions = {},
): ReadinessCheck {
  const notReady = options?.notReadyStates ?? ['open', 'isolated'];
  return (): ReadinessResult => {
    let recorders: readonly BreakerRecorder[];
    if (typeof breaker === 'string') recorders = recordersNamed(breaker);
    else {
      const recorder = breaker !== null && typeof breaker === 'object' ? recorderOf(breaker) : undefined;
      recorders = recorder !== undefined && !recorder.closed ? [recorder] : [];
    }
    const failing = recorders.find((recorder) => notReady.includes(recorder.state));
    if (failing !== undefined)
      return { ready: false, detail: `circuit breaker "${failing.name}" is ${failing.state}` };
    if (recorders.length === 0) return { ready: true, detail: 'no bound circuit breaker' };
    return { ready: true, detail: recorders.map((recorder) => `${recorder.name}: ${recorder.state}`).join(', ') };
  };
}
