import type { Attributes } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { DeltaConverter } from '../src/bound/delta.js';

const attributes: Attributes = { route: '/' };
const descriptor = { name: 'd', description: '', unit: 's', valueType: 1 };

function exponential(scale: number, offset: number, counts: number[], zeroCount = 0): MetricData {
  const count = counts.reduce((a, b) => a + b, 0) + zeroCount;
  return {
    descriptor,
    aggregationTemporality: 1,
    dataPointType: 1,
    dataPoints: [
      {
        startTime: [0, 0],
        endTime: [1, 0],
        attributes,
        value: { count, sum: count, scale, zeroCount, positive: { offset, bucketCounts: counts }, negative: { offset: 0, bucketCounts: [] } },
      },
    ],
  } as MetricData;
}

describe('delta conversion', () => {
  it('subtracts the previous collection, across a drop of the exponential scale', () => {
    const converter = new DeltaConverter();
    converter.convert([exponential(3, 10, [1, 2, 3, 4])], converter.begin([1, 0]));
    // The series downscaled once (scale 3 → 2): old buckets 10..13 are new buckets 5, 5, 6, 6.
    const since = converter.begin([2, 0]);
    const [metric] = converter.convert([exponential(2, 5, [3 + 1, 7 + 2])], since);
    const point = metric!.dataPoints[0]!;
    expect(point.startTime).toEqual([1, 0]);
    expect(metric!.aggregationTemporality).toBe(0);
    expect((point.value as { positive: { bucketCounts: number[] } }).positive.bucketCounts).toEqual([1, 2]);
    expect((point.value as { count: number }).count).toBe(3);
  });

  it('leaves out series with nothing new, and counters report their increase', () => {
    const converter = new DeltaConverter();
    const sum = (value: number) => ({ descriptor, aggregationTemporality: 1, dataPointType: 3, isMonotonic: true, dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes, value }] }) as MetricData;
    expect(converter.convert([sum(5)], converter.begin([1, 0]))[0]!.dataPoints[0]!.value).toBe(5);
    expect(converter.convert([sum(5)], converter.begin([2, 0]))).toEqual([]);
    expect(converter.convert([sum(9)], converter.begin([3, 0]))[0]!.dataPoints[0]!.value).toBe(4);
  });
});
