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

/** One `key=value;metadata` baggage entry, as the SDK parses it (empty keys or values are invalid). */
function parseBaggageEntry(entry: string): { key: string; value: string; metadata?: BaggageEntry['metadata'] } | undefined {
  const metadataAt = entry.indexOf(';');
  const keyPair = metadataAt === -1 ? entry : entry.slice(0, metadataAt);
  const equals = keyPair.indexOf('=');
  if (equals <= 0) return undefined;
  const rawKey = keyPair.slice(0, equals).trim();
  const rawValue = keyPair.slice(equals + 1).trim();
  if (!rawKey || !rawValue) return undefined;
  let key: string;
  let value: string;
  try {
    key = decodeURIComponent(rawKey);
    value = decodeURIComponent(rawValue);
  } catch {
    return undefined;
  }
  if (metadataAt !== -1 && metadataAt < entry.length - 1) return { key, value, metadata: baggageEntryMetadataFromString(entry.slice(metadataAt + 1)) };
  return { key, value };
}

/** Adds the entries of one `baggage` header within the W3C limits; returns the new count and size. */
function parseBaggageHeader(header: string, entries: Record<string, BaggageEntry>, count: number, totalSize: number): [number, number] {
  let start = 0;
  while (start < header.length && count < MAX_PAIRS) {
    const end = header.indexOf(',', start);
    const entryEnd = end === -1 ? header.length : end;
    const entryLength = entryEnd - start;
    if (entryLength <= MAX_PAIR_LENGTH) {
      const entry = parseBaggageEntry(header.slice(start, entryEnd));
      if (entry !== undefined) {
        const entrySize = (count === 0 ? 0 : 1) + entryLength;
        if (totalSize + entrySize > MAX_TOTAL_LENGTH) break;
        entries[entry.key] = entry.metadata ? { value: entry.value, metadata: entry.metadata } : { value: entry.value };
        count++;
        totalSize += entrySize;
      }
    }
    if (end === -1) break;
    start = end + 1;
  }
  return [count, totalSize];
}

/** @opentelemetry/core's suppressTracing() flag: nothing is injected under it (exporters' own requests). */
const SUPPRESS_TRACING_KEY = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** W3C trace context and baggage, inject and extract, in one propagator. */
export class W3CPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (context.getValue(SUPPRESS_TRACING_KEY) === true) return;
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
      if (traceState) spanContext.traceState = createTraceState(Array.isArray(traceState) ? traceState.join(',') : traceState);
      result = trace.setSpanContext(result, spanContext);
    }
    const header = getter.get(carrier, BAGGAGE);
    if (!header) return result;
    const entries: Record<string, BaggageEntry> = {};
    let count = 0;
    let totalSize = 0;
    for (const value of Array.isArray(header) ? header : [header]) {
      [count, totalSize] = parseBaggageHeader(value, entries, count, totalSize);
    }
    return count === 0 ? result : propagation.setBaggage(result, propagation.createBaggage(entries));
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE, BAGGAGE];
  }
}
