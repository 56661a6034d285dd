import type { BridgeHandle } from '@otelkit/core';

/**
 * A circuit breaker's state, as reported in `circuit_breaker.state`. `isolated` is cockatiel's
 * manually held-open state.
 */
export type CircuitBreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/**
 * How a call through a breaker ended, as reported in `circuit_breaker.calls`:
 * `success`, `failure` and `timeout` ran the protected action; `rejected` did not (breaker open or
 * concurrency limit reached); `fallback` is counted in addition to one of those when a fallback ran.
 */
export type CircuitBreakerOutcome = 'success' | 'failure' | 'timeout' | 'rejected' | 'fallback';

/** Options every breaker bridge takes. */
export interface BreakerBridgeOptions {
  /**
   * Value of `circuit_breaker.name`. Defaults to the breaker's own name where the library has one
   * (opossum's `name` option); required for cockatiel and custom breakers.
   * @example { name: 'payments-api' }
   */
  name?: string;
  /**
   * Record `circuit_breaker.call.duration`. The histogram is the one synchronous OTel call on a
   * breaker call (about 0.8 µs); turn it off to keep only the counts, which cost a few ns.
   * @default true
   */
  recordDuration?: boolean;
}

/** What the breaker bridges hand back: a bridge handle plus the breaker's name and last known state. */
export interface BreakerHandle extends BridgeHandle {
  /** The `circuit_breaker.name` this breaker reports under (empty for a no-op handle). */
  readonly name: string;
  /** The state last seen, or `undefined` once unbound (or for a no-op handle). */
  readonly state: CircuitBreakerState | undefined;
}
