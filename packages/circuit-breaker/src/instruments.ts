import type { Meter, Observable } from '@opentelemetry/api';
import {
  CIRCUIT_BREAKER_CALLS,
  CIRCUIT_BREAKER_CONSECUTIVE_FAILURES,
  CIRCUIT_BREAKER_LAST_TRANSITION_TIME,
  CIRCUIT_BREAKER_STATE,
  CIRCUIT_BREAKER_TRANSITIONS,
  createInstrument,
  perMeter,
} from '@otelkit/core';

/** Scope name of every instrument this package creates. */
export const SCOPE = '@otelkit/circuit-breaker';

/**
 * The observable instruments of one meter; created once per meter and shared by every bound breaker.
 * (The call duration is a bound histogram of `@otelkit/core`, see the recorder.)
 */
export interface BreakerInstruments {
  readonly meter: Meter;
  readonly state: Observable;
  readonly calls: Observable;
  readonly transitions: Observable;
  readonly consecutiveFailures: Observable;
  readonly lastTransitionTime: Observable;
}

/** The instruments on `meter` (otelkit's meter of the provider in force), made once per meter. */
export const breakerInstruments = perMeter(
  (meter: Meter): BreakerInstruments => ({
    meter,
    state: createInstrument(meter, CIRCUIT_BREAKER_STATE),
    calls: createInstrument(meter, CIRCUIT_BREAKER_CALLS),
    transitions: createInstrument(meter, CIRCUIT_BREAKER_TRANSITIONS),
    consecutiveFailures: createInstrument(meter, CIRCUIT_BREAKER_CONSECUTIVE_FAILURES),
    lastTransitionTime: createInstrument(meter, CIRCUIT_BREAKER_LAST_TRANSITION_TIME),
  }),
);
