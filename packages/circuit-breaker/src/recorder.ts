import { diag, type Attributes, type BatchObservableResult } from '@opentelemetry/api';
import { ATTR, bindHistogram, CIRCUIT_BREAKER_CALL_DURATION, contain, nameClaims, registerBatch, type BatchRegistration, type BoundHistogram } from '@otelkit/core';
import { breakerInstruments, SCOPE, type BreakerInstruments } from './instruments.js';
import { addActiveSpanEvent, REJECTED_EVENT, STATE_CHANGE_EVENT } from './span-events.js';
import type { CircuitBreakerOutcome, CircuitBreakerState } from './types.js';

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
