import { diag, type Attributes, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import {
  ATTR,
  bindHistogram,
  CIRCUIT_BREAKER_CALL_DURATION,
  CIRCUIT_BREAKER_CALLS,
  CIRCUIT_BREAKER_CONSECUTIVE_FAILURES,
  CIRCUIT_BREAKER_LAST_TRANSITION_TIME,
  CIRCUIT_BREAKER_STATE,
  CIRCUIT_BREAKER_TRANSITIONS,
  contain,
  createInstrument,
  describeError,
  handleWith,
  nameClaims,
  noopHandle,
  perMeter,
  registerBatch,
  reportOnce,
  type BatchRegistration,
  type BoundHistogram,
} from '@otelkit/core';
import { addActiveSpanEvent, REJECTED_EVENT, STATE_CHANGE_EVENT } from './span-events.js';
import type { BreakerHandle, CircuitBreakerOutcome, CircuitBreakerState } from './types.js';

/*
 * What every breaker bridge (opossum, cockatiel, hand-written) shares: the instruments, the per-breaker
 * recorder (plain-number counting, one batch callback), and the handle. A bridge file says only how
 * to read its library's events.
 */

// ---- Instruments ----

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

// ---- Recorder ----

/** Every outcome, in report order. */
export const ALL_OUTCOMES: readonly CircuitBreakerOutcome[] = ['success', 'failure', 'timeout', 'rejected', 'fallback'];
/** Every state, in report order. */
export const ALL_STATES: readonly CircuitBreakerState[] = ['closed', 'open', 'half_open', 'isolated'];

interface TransitionCount {
  count: number;
  readonly attributes: Attributes;
}

/** What a recorder reports: its name, the states and outcomes its library can produce. */
export interface RecorderSpec {
  readonly name: string;
  readonly initialState: CircuitBreakerState;
  readonly states: readonly CircuitBreakerState[];
  readonly outcomes: readonly CircuitBreakerOutcome[];
  /** Whether to record the duration histogram. */
  readonly recordDuration: boolean;
}

const breakerNames = nameClaims('circuit breaker', 'name');

/**
 * Recorders currently bound, by the name they were bound under (before any `#N`), for readiness
 * checks by name: every breaker bound as "payments" counts for a check of "payments".
 */
const boundByName = new Map<string, Set<BreakerRecorder>>();

/** The bound recorders named `name`. */
export function recordersNamed(name: string): readonly BreakerRecorder[] {
  return [...(boundByName.get(name) ?? [])];
}

/**
 * The per-breaker counting state. Calls only touch plain numbers (and the duration histogram, with
 * attribute objects built once here); everything else is read by ONE batch observable callback.
 */
export class BreakerRecorder {
  readonly name: string;
  state: CircuitBreakerState;
  consecutiveFailures = 0;
  lastTransitionSeconds: number;
  closed = false;
  private readonly spec: RecorderSpec;
  /** The name asked for (readiness by name covers every breaker bound under it). */
  private readonly wantedName: string;
  private readonly registration: BatchRegistration;
  private readonly counts: Record<CircuitBreakerOutcome, number> = {
    success: 0,
    failure: 0,
    timeout: 0,
    rejected: 0,
    fallback: 0,
  };
  private readonly nameAttributes: Attributes;
  private readonly outcomeAttributes: Record<CircuitBreakerOutcome, Attributes>;
  private readonly stateAttributes: Map<CircuitBreakerState, Attributes>;
  private readonly transitions = new Map<string, TransitionCount>();
  private readonly rejectedEventAttributes: Record<CircuitBreakerState, Attributes>;
  /** The call-duration histogram bound per outcome (none when durations are off). */
  private readonly durations: Record<CircuitBreakerOutcome, BoundHistogram> | undefined;

  constructor(wanted: RecorderSpec) {
    // One identity per live breaker: a second breaker bound under a name reports as `name#2`.
    const spec = { ...wanted, name: breakerNames.claim(wanted.name) };
    this.wantedName = wanted.name;
    this.spec = spec;
    this.name = spec.name;
    this.state = spec.initialState;
    this.lastTransitionSeconds = Date.now() / 1000;
    const nameKey = ATTR.CIRCUIT_BREAKER_NAME;
    this.nameAttributes = Object.freeze({ [nameKey]: spec.name });
    const outcomeAttributes = {} as Record<CircuitBreakerOutcome, Attributes>;
    for (const outcome of ALL_OUTCOMES)
      outcomeAttributes[outcome] = Object.freeze({ [nameKey]: spec.name, [ATTR.CIRCUIT_BREAKER_OUTCOME]: outcome });
    this.outcomeAttributes = outcomeAttributes;
    if (spec.recordDuration) {
      const durations = {} as Record<CircuitBreakerOutcome, BoundHistogram>;
      for (const outcome of ALL_OUTCOMES) durations[outcome] = bindHistogram(CIRCUIT_BREAKER_CALL_DURATION, outcomeAttributes[outcome], { scope: SCOPE });
      this.durations = durations;
    }
    const rejected = {} as Record<CircuitBreakerState, Attributes>;
    for (const state of ALL_STATES)
      rejected[state] = Object.freeze({ [nameKey]: spec.name, [ATTR.CIRCUIT_BREAKER_STATE]: state });
    this.rejectedEventAttributes = rejected;
    this.stateAttributes = new Map(spec.states.map((state) => [state, rejected[state]]));
    const callback = contain(`circuit breaker "${spec.name}" metric callback`, (observer: BatchObservableResult, instruments: BreakerInstruments) => {
      for (const [state, attributes] of this.stateAttributes)
        observer.observe(instruments.state, state === this.state ? 1 : 0, attributes);
      for (const outcome of this.spec.outcomes)
        observer.observe(instruments.calls, this.counts[outcome], this.outcomeAttributes[outcome]);
      for (const transition of this.transitions.values())
        observer.observe(instruments.transitions, transition.count, transition.attributes);
      observer.observe(instruments.consecutiveFailures, this.consecutiveFailures, this.nameAttributes);
      observer.observe(instruments.lastTransitionTime, this.lastTransitionSeconds, this.nameAttributes);
    });
    // On otelkit's meter of the provider in force, following it if it is set or replaced later.
    this.registration = registerBatch(
      SCOPE,
      (meter) => {
        const i = breakerInstruments(meter);
        return { instruments: i, observables: [i.state, i.calls, i.transitions, i.consecutiveFailures, i.lastTransitionTime] };
      },
      callback,
    );
    let named = boundByName.get(this.wantedName);
    if (named === undefined) boundByName.set(this.wantedName, (named = new Set()));
    named.add(this);
  }

  /**
   * Counts one call. `durationSeconds`, when given (and finite, >= 0), goes to the duration histogram.
   * A rejected call also adds a span event to the active span.
   */
  recordCall(outcome: CircuitBreakerOutcome, durationSeconds?: number): void {
    if (this.closed) return;
    this.counts[outcome]++;
    if (outcome === 'success') this.consecutiveFailures = 0;
    else if (outcome === 'failure' || outcome === 'timeout') this.consecutiveFailures++;
    else if (outcome === 'rejected') addActiveSpanEvent(REJECTED_EVENT, this.rejectedEventAttributes[this.state]);
    if (this.durations !== undefined && durationSeconds !== undefined) this.durations[outcome].record(durationSeconds);
  }

  /** Moves to `next`: counts the transition, stamps its time, adds a span event and a diagnostic line (warn when it opens). */
  recordState(next: CircuitBreakerState): void {
    if (this.closed || next === this.state) return;
    const from = this.state;
    this.state = next;
    this.lastTransitionSeconds = Date.now() / 1000;
    const key = `${from}>${next}`;
    let transition = this.transitions.get(key);
    if (transition === undefined) {
      transition = {
        count: 0,
        attributes: Object.freeze({
          [ATTR.CIRCUIT_BREAKER_NAME]: this.name,
          [ATTR.CIRCUIT_BREAKER_TRANSITION_FROM]: from,
          [ATTR.CIRCUIT_BREAKER_TRANSITION_TO]: next,
        }),
      };
      this.transitions.set(key, transition);
    }
    transition.count++;
    addActiveSpanEvent(STATE_CHANGE_EVENT, transition.attributes);
    // A breaker opening is an operational event worth a line at the default level (warn), even when no
    // span is active (opossum's open -> half_open happens on a timer); other changes are info.
    const line = `otelkit: circuit breaker "${this.name}" ${from} -> ${next}`;
    try {
      if (next === 'open' || next === 'isolated') diag.warn(line);
      else diag.info(line);
    } catch {
      // a throwing diag logger must not reach the breaker
    }
  }

  /** The count for `outcome` so far (for tests and readiness details). */
  count(outcome: CircuitBreakerOutcome): number {
    return this.counts[outcome];
  }

  /** Stops reporting: removes the batch callback and the name registration. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registration.release();
    const named = boundByName.get(this.wantedName);
    named?.delete(this);
    if (named?.size === 0) boundByName.delete(this.wantedName);
    breakerNames.release(this.name);
  }
}

// ---- Handles ----

/** Handles made by this package, mapped to their recorder (for readiness checks on a handle). */
const recorderOfHandle = new WeakMap<BreakerHandle, BreakerRecorder>();

/** The recorder behind `handle`, if it is one of ours. */
export function recorderOf(handle: BreakerHandle): BreakerRecorder | undefined {
  return recorderOfHandle.get(handle);
}

/** Wraps `recorder` in a handle; `unbind()` runs `release` (listener removal) then closes the recorder. */
export function breakerHandle(recorder: BreakerRecorder, release: () => void): BreakerHandle {
  const handle: BreakerHandle = handleWith(
    () => {
      try {
        release();
      } finally {
        recorder.close();
      }
    },
    {
      name: recorder.name,
      get state() {
        return handle.bound ? recorder.state : undefined;
      },
    },
    (error) => reportOnce(`unbind:${recorder.name}`, `unbinding circuit breaker "${recorder.name}" failed: ${describeError(error)}`),
  );
  recorderOfHandle.set(handle, recorder);
  return handle;
}

/** A handle bound to nothing, for a bad argument. */
export function noopBreakerHandle(name = ''): BreakerHandle {
  const noop = noopHandle();
  return { name, bound: false, state: undefined, unbind: noop.unbind, [Symbol.dispose]: noop.unbind };
}
