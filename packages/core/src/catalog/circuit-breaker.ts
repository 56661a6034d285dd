import { DURATION_BUCKETS_SECONDS } from '../buckets.js';
import { ATTR } from './attributes.js';
import type { MetricDefinition } from './types.js';

/*
 * Circuit-breaker metrics: otelkit's own names, since no OpenTelemetry semantic convention exists.
 * The shape follows resilience4j-micrometer (`resilience4j.circuitbreaker.state{state}` as one 0/1
 * series per state, calls by kind, tag `name`), renamed into an OTel-style `circuit_breaker.*`
 * namespace with `circuit_breaker.name` as the breaker's identity.
 */

/**
 * `circuit_breaker.state`: one series per possible state (`closed`, `open`, `half_open`, and
 * `isolated` for cockatiel), 1 for the current state and 0 for the others.
 */
export const CIRCUIT_BREAKER_STATE: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'circuit_breaker.state',
  kind: 'observable-gauge',
  unit: '{state}',
  description: 'Circuit breaker state: 1 for the current state, 0 for the others.',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME, ATTR.CIRCUIT_BREAKER_STATE],
  stability: 'otelkit',
});

/**
 * `circuit_breaker.calls`: calls through the breaker by `circuit_breaker.outcome` (`success`,
 * `failure`, `timeout`, `rejected`, plus `fallback` counted in addition when a fallback ran).
 */
export const CIRCUIT_BREAKER_CALLS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'circuit_breaker.calls',
  kind: 'observable-counter',
  unit: '{call}',
  description: 'Calls through the circuit breaker, by outcome.',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME, ATTR.CIRCUIT_BREAKER_OUTCOME],
  stability: 'otelkit',
});

/** `circuit_breaker.call.duration`: duration of the protected action (success, failure, timeout). */
export const CIRCUIT_BREAKER_CALL_DURATION: MetricDefinition<'histogram'> = Object.freeze({
  name: 'circuit_breaker.call.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Duration of calls the circuit breaker let through, by outcome.',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME, ATTR.CIRCUIT_BREAKER_OUTCOME],
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'otelkit',
});

/** `circuit_breaker.transitions`: state changes, by previous and new state. */
export const CIRCUIT_BREAKER_TRANSITIONS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'circuit_breaker.transitions',
  kind: 'observable-counter',
  unit: '{transition}',
  description: 'Circuit breaker state transitions, by previous and new state.',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME, ATTR.CIRCUIT_BREAKER_TRANSITION_FROM, ATTR.CIRCUIT_BREAKER_TRANSITION_TO],
  stability: 'otelkit',
});

/** `circuit_breaker.consecutive_failures`: failures (and timeouts) since the last success. */
export const CIRCUIT_BREAKER_CONSECUTIVE_FAILURES: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'circuit_breaker.consecutive_failures',
  kind: 'observable-gauge',
  unit: '{failure}',
  description: 'Failed or timed-out calls since the last successful call.',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME],
  stability: 'otelkit',
});

/** `circuit_breaker.last_transition.time`: Unix time, in seconds, of the last state change. */
export const CIRCUIT_BREAKER_LAST_TRANSITION_TIME: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'circuit_breaker.last_transition.time',
  kind: 'observable-gauge',
  unit: 's',
  description: 'Unix time, in seconds, of the last state change (or of binding, before any change).',
  attributes: [ATTR.CIRCUIT_BREAKER_NAME],
  stability: 'otelkit',
});
