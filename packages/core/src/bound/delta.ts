import type { Attributes, HrTime } from '@opentelemetry/api';
import type { DataPointType, ExponentialHistogram, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { DELTA, EXPONENTIAL_HISTOGRAM, HISTOGRAM, SUM } from './sdk-values.js';

type Previous =
  | { kind: 'sum'; value: number }
  | { kind: 'histogram'; counts: number[]; sum: number; count: number }
  | { kind: 'exponential'; scale: number; offset: number; counts: number[]; zeroCount: number; sum: number; count: number };

/**
 * Turns the store's cumulative data into delta data for one reader (OTLP with
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta` or `lowmemory`): each point becomes what was
 * recorded since this reader's previous collection, starting then; series with nothing new are left
 * out, as the SDK's delta aggregation leaves them. Previous values are held per series (its attribute
 * object, which lives as long as the series), so nothing outlives a series.
 */
export class DeltaConverter {
  private readonly previous = new WeakMap<Attributes, Previous>();
  private lastCollection: HrTime | undefined;

  /** Starts a collection at `endTime`; returns the previous one's time (the deltas' start), if any. */
  begin(endTime: HrTime): HrTime | undefined {
    const since = this.lastCollection;
    this.lastCollection = endTime;
    return since;
  }

  /** The delta form of metrics of the collection started by {@link begin} (which returned `since`). */
  convert(metrics: MetricData[], since: HrTime | undefined): MetricData[] {
    const out: MetricData[] = [];
    for (const metric of metrics) {
      const converted = this.metric(metric, since);
      if (converted !== undefined) out.push(converted);
    }
    return out;
  }

  private metric(metric: MetricData, since: HrTime | undefined): MetricData | undefined {
    if (metric.dataPointType === SUM && !metric.isMonotonic) return metric; // up-down sums stay cumulative
    const points = [];
    for (const point of metric.dataPoints) {
      const value = this.delta(point.attributes, point.value as number | Histogram | ExponentialHistogram, metric.dataPointType);
      if (value === undefined) continue;
      points.push({ ...point, startTime: since ?? point.startTime, value });
    }
    if (points.length === 0) return undefined;
    return { ...metric, aggregationTemporality: DELTA, dataPoints: points } as MetricData;
  }

  private delta(attributes: Attributes, value: number | Histogram | ExponentialHistogram, type: DataPointType): number | Histogram | ExponentialHistogram | undefined {
    const previous = this.previous.get(attributes);
    if (type === SUM) {
      const current = value as number;
      this.previous.set(attributes, { kind: 'sum', value: current });
      const before = previous?.kind === 'sum' ? previous.value : 0;
      return current === before ? undefined : current - before;
    }
    if (type === HISTOGRAM) {
      const current = value as Histogram;
      const counts = current.buckets.counts;
      this.previous.set(attributes, { kind: 'histogram', counts: counts.slice(), sum: current.sum ?? 0, count: current.count });
      const before = previous?.kind === 'histogram' && previous.counts.length === counts.length ? previous : undefined;
      const count = current.count - (before?.count ?? 0);
      if (count === 0) return undefined;
      // min and max of the interval are not known from cumulative data: left out (they are optional).
      return {
        buckets: { boundaries: current.buckets.boundaries, counts: counts.map((c, i) => c - (before?.counts[i] ?? 0)) },
        sum: (current.sum ?? 0) - (before?.sum ?? 0),
        count,
      };
    }
    if (type === EXPONENTIAL_HISTOGRAM) {
      const current = value as ExponentialHistogram;
      this.previous.set(attributes, {
        kind: 'exponential',
        scale: current.scale,
        offset: current.positive.offset,
        counts: current.positive.bucketCounts.slice(),
        zeroCount: current.zeroCount,
        sum: current.sum ?? 0,
        count: current.count,
      });
      const before = previous?.kind === 'exponential' ? previous : undefined;
      const count = current.count - (before?.count ?? 0);
      if (count === 0) return undefined;
      const earlier = before === undefined ? new Map<number, number>() : bucketsAt(before.offset, before.counts, before.scale - current.scale);
      const counts = current.positive.bucketCounts.map((c, i) => c - (earlier.get(current.positive.offset + i) ?? 0));
      return {
        count,
        sum: (current.sum ?? 0) - (before?.sum ?? 0),
        scale: current.scale,
        zeroCount: current.zeroCount - (before?.zeroCount ?? 0),
        positive: { offset: current.positive.offset, bucketCounts: counts },
        negative: { offset: 0, bucketCounts: [] },
      };
    }
    return value;
  }
}

/**
 * Exponential bucket counts by index, taken `steps` scales down (a scale drop merges buckets i of the
 * finer scale into floor(i / 2^steps), OpenTelemetry's index rule).
 */
function bucketsAt(offset: number, counts: number[], steps: number): Map<number, number> {
  const out = new Map<number, number>();
  const factor = 2 ** Math.max(0, steps);
  counts.forEach((count, i) => {
    const index = Math.floor((offset + i) / factor);
    out.set(index, (out.get(index) ?? 0) + count);
  });
  return out;
}
