import { trace, type Attributes } from '@opentelemetry/api';

/** Span event added when a breaker refuses a call. */
export const REJECTED_EVENT = 'circuit_breaker.rejected';
/** Span event added when a breaker changes state. */
export const STATE_CHANGE_EVENT = 'circuit_breaker.state_change';

/**
 * Adds an event to the active span, if there is one still recording: a span already ended (the
 * half-open timer runs in the context of the call that opened the breaker) is left alone.
 */
export function addActiveSpanEvent(name: string, attributes: Attributes): void {
  const span = trace.getActiveSpan();
  if (span !== undefined && span.isRecording()) span.addEvent(name, attributes);
}
