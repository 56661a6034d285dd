/**
 * Exponential ("native") histogram buckets as Prometheus defines them: for schema `s`, bucket `i`
 * holds values in (2^((i-1)/2^s), 2^(i/2^s)]; values at or below the zero threshold count in the zero
 * bucket. Kept as one dense window of counts over the indexes seen so far; when the window would
 * pass `maxBuckets`, the schema drops by one (neighbouring buckets merge), as Prometheus' own
 * clients and OpenTelemetry's exponential histogram do, so memory per series stays bounded.
 *
 * The state lives in the histogram series' own fields (a separate object per series would cost ~60
 * bytes more); the functions here are its only writers.
 */
export interface NativeBucketState {
  /** Current schema (starts at the configured one, lower after a downscale). */
  nativeSchema: number;
  nativeZeroCount: number;
  /** Bucket index of `nativeCounts[0]`. */
  nativeOffset: number;
  /**
   * Counts of buckets `nativeOffset ..`: a plain array of small integers, which V8 keeps at 4 bytes
   * each, replaced by an exact-size one when it grows (push() would leave ~17 spare slots per series).
   */
  nativeCounts: number[];
}

/** Counts one value (≥ 0, finite: the caller checked). */
export function recordNative(state: NativeBucketState, value: number, settings: NativeBucketSettings): void {
  if (value <= settings.zeroThreshold) {
    state.nativeZeroCount++;
    return;
  }
  let index = bucketIndex(value, state.nativeSchema);
  // The common case first: a bucket inside the window.
  const inWindow = index - state.nativeOffset;
  if (inWindow >= 0 && inWindow < state.nativeCounts.length) {
    state.nativeCounts[inWindow]!++;
    return;
  }
  if (state.nativeCounts.length === 0) {
    state.nativeOffset = index;
    state.nativeCounts = [1];
    return;
  }
  // Schema -4 is the lowest Prometheus accepts; there every double fits in ~132 buckets, so past it
  // the window may pass maxBuckets but stays bounded.
  while (state.nativeSchema > MIN_SCHEMA && !fits(state, index, settings.maxBuckets)) {
    downscale(state);
    index = bucketIndex(value, state.nativeSchema);
  }
  const counts = state.nativeCounts;
  const position = index - state.nativeOffset;
  if (position < 0) {
    state.nativeCounts = [1].concat(zeros(-position - 1), counts);
    state.nativeOffset = index;
  } else if (position >= counts.length) {
    state.nativeCounts = counts.concat(zeros(position - counts.length), [1]);
  } else {
    counts[position]!++;
  }
}

function fits(state: NativeBucketState, index: number, maxBuckets: number): boolean {
  const low = Math.min(index, state.nativeOffset);
  const high = Math.max(index, state.nativeOffset + state.nativeCounts.length - 1);
  return high - low + 1 <= maxBuckets;
}

/** Halves the resolution: old buckets 2j-1 and 2j become bucket j of the schema below. */
function downscale(state: NativeBucketState): void {
  const newOffset = downscaledIndex(state.nativeOffset);
  const merged: number[] = [];
  for (let i = 0; i < state.nativeCounts.length; i++) {
    const position = downscaledIndex(state.nativeOffset + i) - newOffset;
    while (merged.length <= position) merged.push(0);
    merged[position]! += state.nativeCounts[i]!;
  }
  state.nativeCounts = merged;
  state.nativeOffset = newOffset;
  state.nativeSchema--;
}

/** The schemas Prometheus accepts. */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

/** A fresh state at the configured schema. */
export function emptyNativeState(settings: NativeBucketSettings): NativeBucketState {
  return { nativeSchema: settings.schema, nativeZeroCount: 0, nativeOffset: 0, nativeCounts: NO_COUNTS };
}

const NO_COUNTS: number[] = [];

const NO_ZEROS: number[] = [];

function zeros(length: number): number[] {
  return length === 0 ? NO_ZEROS : new Array<number>(length).fill(0);
}

/** What native buckets are kept with (shared by every series of a store). */
export type NativeBucketSettings = { readonly schema: number; readonly zeroThreshold: number; readonly maxBuckets: number };

/**
 * The bucket of index i at schema s covers (2^((i-1)/2^s), 2^(i/2^s)]; at schema s-1 the bucket
 * holding it is ceil(i/2) (upper bounds 2^(2j/2^s) = 2^(j/2^(s-1))).
 */
function downscaledIndex(index: number): number {
  return Math.ceil(index / 2);
}

// For schema s > 0: the 2^s boundaries of the fraction in [0.5, 1), as Prometheus' client_golang
// computes them (fraction bound j = 2^(j/2^s - 1)).
const FRACTION_BOUNDS: Float64Array[] = [];
for (let schema = 1; schema <= 8; schema++) {
  const size = 1 << schema;
  const bounds = new Float64Array(size);
  for (let j = 0; j < size; j++) bounds[j] = Math.pow(2, j / size - 1);
  FRACTION_BOUNDS[schema] = bounds;
}

// frexp through the IEEE-754 bits: one float and its two 32-bit halves (little-endian, as on every
// platform Node runs on: the high half, with sign and exponent, is index 1).
const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HIGH = LITTLE_ENDIAN ? 1 : 0;

/** The bucket index of `value` (> 0, finite) at `schema` (-4 ≤ schema ≤ 8), as Prometheus computes it. */
export function bucketIndex(value: number, schema: number): number {
  // frexp: value = fraction * 2^exponent with fraction in [0.5, 1).
  float[0] = value;
  let high = words[HIGH]!;
  let exponent = ((high >>> 20) & 0x7ff) - 1022;
  if (exponent === -1022) {
    // Subnormal: scale into the normal range first.
    float[0] = value * 2 ** 64;
    high = words[HIGH]!;
    exponent = ((high >>> 20) & 0x7ff) - 1022 - 64;
  }
  // The same mantissa with the exponent of [0.5, 1).
  words[HIGH] = (high & 0x800fffff) | (1022 << 20);
  const fraction = float[0]!;
  if (schema > 0) {
    const bounds = FRACTION_BOUNDS[schema]!;
    // Smallest j with bounds[j] >= fraction (sort.SearchFloat64s).
    let low = 0;
    let top = bounds.length;
    while (low < top) {
      const middle = (low + top) >>> 1;
      if (bounds[middle]! < fraction) low = middle + 1;
      else top = middle;
    }
    return low + (exponent - 1) * bounds.length;
  }
  let key = exponent;
  if (fraction === 0.5) key--;
  const shift = -schema;
  const offset = (1 << shift) - 1;
  return (key + offset) >> shift;
}
