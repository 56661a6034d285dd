import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks and handed out as hex: one crypto call per ~340 requests
// instead of one (or Math.random() loops) per id.
const BLOCK = 8192;
const block = Buffer.allocUnsafe(BLOCK);
let offset = BLOCK;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > BLOCK) {
      randomFillSync(block);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // An all-zero id is invalid in W3C trace context; draw again in that (2^-64) case.
    for (let i = start; i < offset; i++) if (block[i] !== 0) return block.toString('hex', start, offset);
  }
}

/** A new random, valid W3C trace id (32 lowercase hex digits). */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new random, valid W3C span id (16 lowercase hex digits). */
export function newSpanId(): string {
  return randomHex(8);
}
