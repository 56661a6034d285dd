import { describeError, reportOnce } from '@otelkit/core';
import { ALL_OUTCOMES, ALL_STATES, breakerHandle, BreakerRecorder, noopBreakerHandle } from './recorder.js';
import type { BreakerHandle, CircuitBreakerOutcome, CircuitBreakerState } from './types.js';

/** Options of {@link instrumentCustomBreaker}. */
export interface CustomBreakerOptions {
  /** `circuit_breaker.name`. @example 'inventory' */
  name: string;
  /** The state the breaker is in now. @default 'closed' */
  initialState?: CircuitBreakerState;
  /**
   * The states your breaker can be in: one `circuit_breaker.state` series each.
   * @default ['closed', 'open', 'half_open']
   */
  states?: readonly CircuitBreakerState[];
  /** Record `circuit_breaker.call.duration` for calls given a duration. @default true */
  recordDuration?: boolean;
}

/** The handle of a hand-written breaker: report its state changes and its calls through it. */
export interface CustomBreakerHandle extends BreakerHandle {
  /** Reports the breaker's new state (same state again is ignored). Never throws. */
  recordState(state: CircuitBreakerState): void;
  /**
   * Reports one call. Give `durationSeconds` for calls that ran the protected action.
   * `fallback` is meant in addition to the call's own outcome. Never throws.
   * @example handle.recordCall('success', 0.042)
   */
  recordCall(outcome: CircuitBreakerOutcome, durationSeconds?: number): void;
}

/**
 * Bridges a hand-written circuit breaker: you call `recordState` and `recordCall`, otelkit reports
 * the same metrics and span events as for opossum. Unknown states/outcomes get one diagnostic and are
 * ignored; after `unbind()` both methods do nothing.
 *
 * @example
 * const metrics = instrumentCustomBreaker({ name: 'inventory' });
 * metrics.recordCall('failure', 0.2);
 * metrics.recordState('open');
 */
export function instrumentCustomBreaker(options: CustomBreakerOptions): CustomBreakerHandle {
  const name = options?.name;
  const states = options?.states ?? ['closed', 'open', 'half_open'];
  const initialState = options?.initialState ?? 'closed';
  if (
    typeof name !== 'string' ||
    name === '' ||
    !Array.isArray(states) ||
    states.length === 0 ||
    !states.every((state) => ALL_STATES.includes(state)) ||
    !states.includes(initialState)
  ) {
    reportOnce(
      'custom:bad-options',
      'instrumentCustomBreaker() needs { name: non-empty string, states?: known states including initialState }; nothing was bound.',
    );
    return { ...noopBreakerHandle(), recordState() {}, recordCall() {} };
  }
  const recorder = new BreakerRecorder({ name, initialState, states: [...states], outcomes: ALL_OUTCOMES, recordDuration: options.recordDuration !== false });
  const handle = breakerHandle(recorder, () => {});
  return Object.defineProperties(handle, {
    recordState: {
      value(state: CircuitBreakerState): void {
        try {
          if (!states.includes(state)) {
            reportOnce(`custom:bad-state:${name}`, `circuit breaker "${name}": unknown state ${String(state)} ignored.`);
            return;
          }
          recorder.recordState(state);
        } catch (error) {
          // The caller's breaker must not notice; the failure is reported once.
          reportOnce(`custom:record-state:${name}`, `circuit breaker "${name}": recording a state failed and was ignored: ${describeError(error)}`);
        }
      },
    },
    recordCall: {
      value(outcome: CircuitBreakerOutcome, durationSeconds?: number): void {
        try {
          if (!ALL_OUTCOMES.includes(outcome)) {
            reportOnce(`custom:bad-outcome:${name}`, `circuit breaker "${name}": unknown outcome ${String(outcome)} ignored.`);
            return;
          }
          recorder.recordCall(outcome, typeof durationSeconds === 'number' ? durationSeconds : undefined);
        } catch (error) {
          reportOnce(`custom:record-call:${name}`, `circuit breaker "${name}": recording a call failed and was ignored: ${describeError(error)}`);
        }
      },
    },
  }) as CustomBreakerHandle;
}
