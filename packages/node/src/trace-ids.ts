import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks and handed out as hex: one crypto call per ~340 requests
// instead of one (or Math.random() loops) per id, and one hex conversion per request.
const BLOCK = 8184; // a multiple of 24: a trace id and a span id are 24 bytes
const block = Buffer.allocUnsafe(BLOCK);
let offset = BLOCK;

function randomHex(bytes: number): string {
  if (offset + bytes > BLOCK) {
    randomFillSync(block);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return block.toString('hex', start, offset);
}

const ZERO_SPAN_ID = '0000000000000000';
const ZERO_TRACE_ID = '00000000000000000000000000000000';

/** A new random span id (16 lowercase hex digits, never all zero: invalid in W3C trace context). */
export function newSpanId(): string {
  for (;;) {
    const id = randomHex(8);
    if (id !== ZERO_SPAN_ID) return id;
  }
}

/** A new random trace id and span id, valid in W3C trace context, from one conversion. */
export function newTraceAndSpanIds(): { traceId: string; spanId: string } {
  for (;;) {
    const hex = randomHex(24);
    const traceId = hex.slice(0, 32);
    const spanId = hex.slice(32);
    if (traceId !== ZERO_TRACE_ID && spanId !== ZERO_SPAN_ID) return { traceId, spanId };
  }
}
