import {
  baggageEntryMetadataFromString,
  createTraceState,
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
  type BaggageEntry,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

// W3C Trace Context (traceparent, tracestate) and W3C Baggage, as @opentelemetry/core's
// W3CTraceContextPropagator and W3CBaggagePropagator do it, on the API alone: the preload sets the
// global propagator before the app's first line, and @opentelemetry/core (32 modules) would cost
// that start-up path about 20 ms. The tests check both headers round-trip with the SDK's own.

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const BAGGAGE = 'baggage';
// version "-" trace-id "-" parent-id "-" trace-flags, then more fields only for versions after 00.
const TRACEPARENT_PATTERN = /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;
// Baggage limits of the W3C specification, as the SDK applies them.
const MAX_PAIRS = 180;
const MAX_PAIR_LENGTH = 4096;
const MAX_TOTAL_LENGTH = 8192;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The span context a `traceparent` value carries, or undefined for an invalid one. */
export function parseTraceParent(traceParent: string): SpanContext | undefined {
  const match = TRACEPARENT_PATTERN.exec(traceParent);
  if (!match) return undefined;
  // Version 00 has exactly four fields.
  if (match[1] === '00' && match[5]) return undefined;
  return { traceId: match[2]!, spanId: match[3]!, traceFlags: parseInt(match[4]!, 16), isRemote: true };
}

/** W3C trace context and baggage, inject and extract, in one propagator. */
export class W3CPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      const flags = (spanContext.traceFlags || TraceFlags.NONE) & 0xff;
      setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`);
      if (spanContext.traceState) setter.set(carrier, TRACESTATE, spanContext.traceState.serialize());
    }
    const baggage = propagation.getBaggage(context);
    if (baggage === undefined) return;
    const pairs: string[] = [];
    let total = 0;
    for (const [key, entry] of baggage.getAllEntries()) {
      let pair = `${encodeURIComponent(key)}=${encodeURIComponent(entry.value)}`;
      if (entry.metadata !== undefined) pair += `;${entry.metadata.toString()}`;
      if (pair.length > MAX_PAIR_LENGTH || pairs.length >= MAX_PAIRS || total + pair.length + (pairs.length > 0 ? 1 : 0) > MAX_TOTAL_LENGTH) continue;
      total += pair.length + (pairs.length > 0 ? 1 : 0);
      pairs.push(pair);
    }
    if (pairs.length > 0) setter.set(carrier, BAGGAGE, pairs.join(','));
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    let result = context;
    const traceParent = first(getter.get(carrier, TRACEPARENT));
    const spanContext = traceParent === undefined ? undefined : parseTraceParent(traceParent);
    if (spanContext !== undefined) {
      const traceState = getter.get(carrier, TRACESTATE);
      if (traceState !== undefined) spanContext.traceState = createTraceState(Array.isArray(traceState) ? traceState.join(',') : traceState);
      result = trace.setSpanContext(result, spanContext);
    }
    const header = getter.get(carrier, BAGGAGE);
    const baggageHeader = Array.isArray(header) ? header.join(',') : header;
    if (!baggageHeader) return result;
    const entries: Record<string, BaggageEntry> = {};
    let count = 0;
    for (const pair of baggageHeader.split(',')) {
      if (count >= MAX_PAIRS) break;
      const [keyValue, ...properties] = pair.split(';');
      const equals = keyValue?.indexOf('=') ?? -1;
      if (keyValue === undefined || equals <= 0) continue;
      try {
        const key = decodeURIComponent(keyValue.slice(0, equals).trim());
        const value = decodeURIComponent(keyValue.slice(equals + 1).trim());
        entries[key] = properties.length > 0 ? { value, metadata: baggageEntryMetadataFromString(properties.join(';')) } : { value };
        count++;
      } catch {
        // a malformed percent-encoding: that entry is left out, as the SDK does
      }
    }
    return count === 0 ? result : propagation.setBaggage(result, propagation.createBaggage(entries));
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE, BAGGAGE];
  }
}
