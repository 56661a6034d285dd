/**
 * Exponential ("native") histogram buckets as Prometheus defines them: for schema `s`, bucket `i`
 * holds values in (2^((i-1)/2^s), 2^(i/2^s)]; values at or below `zeroThreshold` count in the zero
 * bucket. Kept as one dense window of counts over the indexes seen so far; when the window would
 * pass `maxBuckets`, the schema drops by one (neighbouring buckets merge), as Prometheus' own
 * clients and OpenTelemetry's exponential histogram do, so memory per series stays bounded.
 */
export class NativeBuckets {
  /** Current schema (starts at the configured one, lower after a downscale). */
  schema: number;
  zeroCount = 0;
  /** Bucket index of `counts[0]`. */
  offset = 0;
  /** Counts of buckets `offset .. offset + used - 1`; capacity grows by doubling. */
  counts: Float64Array = EMPTY;
  used = 0;

  constructor(
    schema: number,
    readonly zeroThreshold: number,
    private readonly maxBuckets: number,
  ) {
    this.schema = schema;
  }

  /** Counts one value (≥ 0, finite: the caller checked). */
  record(value: number): void {
    if (value <= this.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    let index = bucketIndex(value, this.schema);
    if (this.used === 0) {
      if (this.counts.length === 0) this.counts = new Float64Array(8);
      this.offset = index;
      this.used = 1;
      this.counts[0] = 1;
      return;
    }
    while (!this.fits(index)) {
      this.downscale();
      index = bucketIndex(value, this.schema);
    }
    if (index < this.offset) this.growLow(index);
    else if (index >= this.offset + this.used) this.growHigh(index);
    this.counts[index - this.offset]!++;
  }

  private fits(index: number): boolean {
    const low = Math.min(index, this.offset);
    const high = Math.max(index, this.offset + this.used - 1);
    return high - low + 1 <= this.maxBuckets;
  }

  private ensureCapacity(size: number): void {
    if (size <= this.counts.length) return;
    let capacity = this.counts.length * 2;
    while (capacity < size) capacity *= 2;
    const grown = new Float64Array(Math.min(capacity, this.maxBuckets));
    grown.set(this.counts.subarray(0, this.used));
    this.counts = grown;
  }

  private growLow(index: number): void {
    const shift = this.offset - index;
    this.ensureCapacity(this.used + shift);
    this.counts.copyWithin(shift, 0, this.used);
    this.counts.fill(0, 0, shift);
    this.offset = index;
    this.used += shift;
  }

  private growHigh(index: number): void {
    const used = index - this.offset + 1;
    this.ensureCapacity(used);
    this.counts.fill(0, this.used, used);
    this.used = used;
  }

  /** Halves the resolution: bucket i of the new schema holds old buckets 2i-1 and 2i (i.e. index >> 1 after +1 shift). */
  private downscale(): void {
    const newOffset = downscaledIndex(this.offset);
    const newUsed = downscaledIndex(this.offset + this.used - 1) - newOffset + 1;
    const merged = new Float64Array(this.counts.length);
    for (let i = 0; i < this.used; i++) merged[downscaledIndex(this.offset + i) - newOffset]! += this.counts[i]!;
    this.counts = merged;
    this.offset = newOffset;
    this.used = newUsed;
    this.schema--;
  }
}

const EMPTY = new Float64Array(0);

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

const scratch = new DataView(new ArrayBuffer(8));

/** The bucket index of `value` (> 0, finite) at `schema` (-4 ≤ schema ≤ 8), as Prometheus computes it. */
export function bucketIndex(value: number, schema: number): number {
  // frexp: value = fraction * 2^exponent with fraction in [0.5, 1).
  scratch.setFloat64(0, value);
  const high = scratch.getUint32(0);
  let biased = (high >>> 20) & 0x7ff;
  let fraction: number;
  let exponent: number;
  if (biased === 0) {
    // Subnormal: scale into the normal range first.
    scratch.setFloat64(0, value * 2 ** 64);
    biased = (scratch.getUint32(0) >>> 20) & 0x7ff;
    exponent = biased - 1022 - 64;
  } else {
    exponent = biased - 1022;
  }
  fraction = value / 2 ** exponent;
  if (exponent > 1023 || exponent < -1022) fraction = value * 2 ** -(exponent >> 1) * 2 ** -(exponent - (exponent >> 1));
  if (schema > 0) {
    const bounds = FRACTION_BOUNDS[schema]!;
    // Smallest j with bounds[j] >= fraction (sort.SearchFloat64s).
    let low = 0;
    let high2 = bounds.length;
    while (low < high2) {
      const middle = (low + high2) >>> 1;
      if (bounds[middle]! < fraction) low = middle + 1;
      else high2 = middle;
    }
    return low + (exponent - 1) * bounds.length;
  }
  let key = exponent;
  if (fraction === 0.5) key--;
  const shift = -schema;
  const offset = (1 << shift) - 1;
  return (key + offset) >> shift;
}
