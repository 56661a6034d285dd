import { describe, expect, it } from 'vitest';
import { bucketIndex } from '@otelkit/core';
import { emptyNativeState, recordNative } from '../src/bound/native-buckets.js';

/** Upper bound of bucket `index` at `schema`: 2^(index / 2^schema). */
function upperBound(index: number, schema: number): number {
  return Math.pow(2, index / Math.pow(2, schema));
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('native histogram bucket index', () => {
  it('puts each value in (2^((i-1)/2^s), 2^(i/2^s)] for every schema from -4 to 8', () => {
    const next = random(7);
    for (let schema = -4; schema <= 8; schema++) {
      for (let n = 0; n < 2000; n++) {
        const value = Math.pow(10, next() * 24 - 12); // 1e-12 .. 1e12
        const index = bucketIndex(value, schema);
        // Relative tolerance for the float power: the exact boundary cases are checked below.
        expect(value).toBeLessThanOrEqual(upperBound(index, schema) * (1 + 1e-12));
        expect(value).toBeGreaterThan(upperBound(index - 1, schema) * (1 - 1e-12));
      }
    }
  });

  it('counts an exact power of two in the bucket it closes, as Prometheus does', () => {
    expect(bucketIndex(1, 0)).toBe(0);
    expect(bucketIndex(2, 0)).toBe(1);
    expect(bucketIndex(1, 3)).toBe(0);
    expect(bucketIndex(2, 3)).toBe(8);
    expect(bucketIndex(0.5, 3)).toBe(-8);
    expect(bucketIndex(4, -1)).toBe(1);
    expect(bucketIndex(5, -1)).toBe(2);
  });
});

describe('native buckets', () => {
  it('keeps every value: bucket counts plus the zero bucket equal the values recorded', () => {
    const settings = { schema: 3, zeroThreshold: 2 ** -128, maxBuckets: 160 };
    const buckets = emptyNativeState(settings);
    const next = random(11);
    for (let n = 0; n < 5000; n++) recordNative(buckets, next() < 0.01 ? 0 : next() * 3, settings);
    const total = buckets.nativeCounts.reduce((a, b) => a + b, 0);
    expect(total + buckets.nativeZeroCount).toBe(5000);
    expect(buckets.nativeZeroCount).toBeGreaterThan(0);
    expect(buckets.nativeSchema).toBe(3);
  });

  it('halves its resolution instead of passing maxBuckets, keeping counts where they belong', () => {
    const settings = { schema: 8, zeroThreshold: 0, maxBuckets: 40 };
    const buckets = emptyNativeState(settings);
    const values = [1e-6, 0.001, 0.5, 1, 7, 3000, 1e6];
    for (const value of values) recordNative(buckets, value, settings);
    expect(buckets.nativeCounts.length).toBeLessThanOrEqual(40);
    expect(buckets.nativeSchema).toBeLessThan(8);
    for (const value of values) {
      const index = bucketIndex(value, buckets.nativeSchema);
      expect(buckets.nativeCounts[index - buckets.nativeOffset]).toBeGreaterThanOrEqual(1);
    }
    const total = buckets.nativeCounts.reduce((a, b) => a + b, 0);
    expect(total).toBe(values.length);
  });
});

describe('native bucket limits', () => {
  it('never goes below schema -4, even when maxBuckets cannot hold the range (the window stays bounded)', () => {
    const settings = { schema: 3, zeroThreshold: 0, maxBuckets: 2 };
    const buckets = emptyNativeState(settings);
    for (const value of [Number.MIN_VALUE, 1e-300, 1e-6, 1, 1e3, 1e300, Number.MAX_VALUE]) recordNative(buckets, value, settings);
    expect(buckets.nativeSchema).toBe(-4);
    // At schema -4 a bucket spans a factor 2^16: all doubles fit in about 132.
    expect(buckets.nativeCounts.length).toBeLessThanOrEqual(140);
    expect(buckets.nativeCounts.reduce((a, b) => a + b, 0)).toBe(7);
  });
});
