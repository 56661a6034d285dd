import type { Attributes, HrTime } from '@opentelemetry/api';
import type { DataPoint, DataPointType, Histogram, MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { describeError, reportOnce } from '@otelkit/core';

// Values of the SDK's DataPointType enum (types only, not its code).
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const EXPONENTIAL_HISTOGRAM = 1 as DataPointType.EXPONENTIAL_HISTOGRAM;
const GAUGE = 2 as DataPointType.GAUGE;
const SUM = 3 as DataPointType.SUM;

/** The attribute that tells apart the gauges of several processes in an aggregate (`otelkit_worker`). */
export const WORKER_ATTRIBUTE = 'otelkit.worker';

/** One collection as plain data (what crosses a process or thread boundary): scopes and their metrics. */
export type Snapshot = { scopes: ScopeSnapshot[] };
type ScopeSnapshot = { scope: ScopeMetrics['scope']; metrics: MetricData[] };

/** Which points of a snapshot an aggregate takes. */
export type Part =
  /** Everything. */
  | 'all'
  /** Counters and histograms only: what stays valid (cumulative) once the process is gone or silent. */
  | 'monotonic';

/** How a gauge combines across processes (from the catalog): summed, or one series per process. */
export type GaugeCombine = (metricName: string) => 'sum' | undefined;

/**
 * A reader's collection as a snapshot: plain objects only (no exemplars, no native buckets), with
 * NaN and ±Infinity written as strings, since the ways between processes carry JSON (which would
 * turn them into null); {@link SnapshotMerger} reads them back.
 */
export function toSnapshot(resourceMetrics: ResourceMetrics): Snapshot {
  return {
    scopes: resourceMetrics.scopeMetrics.map(({ scope, metrics }) => ({
      scope: { name: scope.name, version: scope.version, schemaUrl: scope.schemaUrl },
      metrics: metrics
        .filter((metric) => metric.dataPointType !== EXPONENTIAL_HISTOGRAM && metric.dataPoints.length > 0)
        .map((metric) => ({ ...metric, descriptor: { ...metric.descriptor }, dataPoints: (metric.dataPoints as NumberOrHistogramPoint[]).map(toWire) }) as MetricData),
    })),
  };
}

/** A merged snapshot in its wire form (as {@link toSnapshot} writes one). */
export function wireSnapshot(snapshot: Snapshot): Snapshot {
  return {
    scopes: snapshot.scopes.map(({ scope, metrics }) => ({
      scope,
      metrics: metrics.map((metric) => ({ ...metric, dataPoints: (metric.dataPoints as NumberOrHistogramPoint[]).map(toWire) }) as MetricData),
    })),
  };
}

/** Whether something received from another process looks like a snapshot (its points are checked one by one when merged). */
export function isSnapshot(value: unknown): value is Snapshot {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as Snapshot).scopes) &&
    (value as Snapshot).scopes.every((scope) => typeof scope?.scope?.name === 'string' && Array.isArray(scope.metrics))
  );
}

function toWire(point: NumberOrHistogramPoint): NumberOrHistogramPoint {
  const copy = copyPoint(point);
  if (typeof copy.value === 'number') return { ...copy, value: wireNumber(copy.value) } as NumberOrHistogramPoint;
  const value = { ...copy.value } as Record<string, unknown>;
  for (const key of ['sum', 'min', 'max'] as const) if (typeof value[key] === 'number') value[key] = wireNumber(value[key]);
  return { ...copy, value } as unknown as NumberOrHistogramPoint;
}

function wireNumber(value: number): number {
  return (Number.isFinite(value) ? value : String(value)) as number;
}

/** A number as sent: finite numbers as they are, 'NaN', 'Infinity' and '-Infinity' as strings; anything else is not a number. */
function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  return undefined;
}

/** A snapshot as the `scopeMetrics` of a collection. */
export function toScopeMetrics(snapshot: Snapshot): ScopeMetrics[] {
  return snapshot.scopes.map(({ scope, metrics }) => ({ scope, metrics }));
}

/** Whether a metric stays valid after its process is gone: cumulative counters and histograms. */
export function isMonotonic(metric: MetricData): boolean {
  return metric.dataPointType === HISTOGRAM || (metric.dataPointType === SUM && metric.isMonotonic);
}

type NumberOrHistogramPoint = DataPoint<number> | DataPoint<Histogram>;
/** A point being summed into (the copies the merger owns are mutable). */
type MutablePoint = { -readonly [K in keyof DataPoint<number>]: DataPoint<number>[K] } | { -readonly [K in keyof DataPoint<Histogram>]: DataPoint<Histogram>[K] };
type MergedMetric = { metric: MetricData; points: Map<string, MutablePoint> };

/**
 * Sums snapshots of several processes into one: counters, up-down counters and histograms summed per
 * attribute set (histogram buckets, sum, count; min and max kept), gauges one series per process
 * (labelled {@link WORKER_ATTRIBUTE}) unless `combine` says to sum them. Never changes its inputs.
 */
export class SnapshotMerger {
  private readonly scopes = new Map<string, { scope: ScopeSnapshot['scope']; metrics: Map<string, MergedMetric> }>();

  constructor(private readonly combine: GaugeCombine) {}

  /** Adds a snapshot; `worker` labels its per-process gauges (nested labels become `outer/inner`). */
  add(snapshot: Snapshot, part: Part, worker?: string): this {
    for (const { scope, metrics } of snapshot.scopes) {
      const scopeKey = `${scope.name}\u0000${scope.version ?? ''}`;
      let merged = this.scopes.get(scopeKey);
      if (merged === undefined) this.scopes.set(scopeKey, (merged = { scope, metrics: new Map() }));
      for (const metric of metrics) {
        try {
          if (part === 'monotonic' && !isMonotonic(metric)) continue;
          this.addMetric(merged.metrics, metric, worker);
        } catch (error) {
          // Received from another process: a malformed metric is left out, the rest of the scrape stands.
          reportOnce('processes.malformed', `a metric from another process was malformed and left out: ${describeError(error)}`);
        }
      }
    }
    return this;
  }

  result(): Snapshot {
    return {
      scopes: [...this.scopes.values()]
        .map(({ scope, metrics }) => ({ scope, metrics: [...metrics.values()].map(({ metric, points }) => ({ ...metric, dataPoints: [...points.values()] }) as MetricData) }))
        .filter((scope) => scope.metrics.length > 0),
    };
  }

  private addMetric(metrics: Map<string, MergedMetric>, metric: MetricData, worker: string | undefined): void {
    const name = metric.descriptor.name;
    let merged = metrics.get(name);
    if (merged === undefined) {
      merged = { metric: { ...metric, dataPoints: [] } as MetricData, points: new Map() };
      metrics.set(name, merged);
    } else if (merged.metric.dataPointType !== metric.dataPointType) {
      reportOnce(`processes.type-conflict.${name}`, `metric ${name} has different types in different processes; only the first type is aggregated`);
      return;
    }
    const perWorker = metric.dataPointType === GAUGE && this.combine(name) !== 'sum' && worker !== undefined;
    for (const point of metric.dataPoints as Array<DataPoint<number> | DataPoint<Histogram>>) {
      const attributes = perWorker ? withWorker(point.attributes, worker) : point.attributes;
      const key = attributeKey(attributes);
      const existing = merged.points.get(key);
      if (existing === undefined) {
        merged.points.set(key, { ...copyPoint(point), attributes });
      } else if (!addInto(existing, point)) {
        reportOnce(`processes.buckets.${name}`, `histogram ${name} has different bucket boundaries in different processes; the first process's buckets are kept and the others' points left out`);
      }
    }
  }
}

/** Adds `point` into `into` (same attribute set); false when histogram boundaries differ. */
function addInto(into: MutablePoint, received: NumberOrHistogramPoint): boolean {
  const point = copyPoint(received);
  if (typeof into.value === 'number') {
    if (typeof point.value !== 'number') return false;
    into.value += point.value as number;
  } else {
    if (typeof point.value === 'number') return false;
    const a = into.value;
    const b = point.value;
    if (!sameBoundaries(a.buckets.boundaries, b.buckets.boundaries)) return false;
    for (let i = 0; i < a.buckets.counts.length; i++) a.buckets.counts[i]! += b.buckets.counts[i] ?? 0;
    a.count += b.count;
    if (a.sum !== undefined || b.sum !== undefined) a.sum = (a.sum ?? 0) + (b.sum ?? 0);
    if (b.min !== undefined) a.min = a.min === undefined ? b.min : Math.min(a.min, b.min);
    if (b.max !== undefined) a.max = a.max === undefined ? b.max : Math.max(a.max, b.max);
  }
  into.startTime = earlier(into.startTime, point.startTime);
  into.endTime = earlier(into.endTime, point.endTime) === into.endTime ? point.endTime : into.endTime;
  return true;
}

/** A copy the merger owns, numbers read back from their wire form; throws on a point of no known shape. */
function copyPoint<T extends DataPoint<number> | DataPoint<Histogram>>(point: T): T {
  const value: unknown = point.value;
  const number = readNumber(value);
  if (number === undefined && !isHistogram(value)) throw new Error('a point that is neither a number nor a histogram');
  const histogram = value as Histogram;
  const sum = readNumber(histogram.sum);
  const min = readNumber(histogram.min);
  const max = readNumber(histogram.max);
  return {
    startTime: [point.startTime[0], point.startTime[1]],
    endTime: [point.endTime[0], point.endTime[1]],
    attributes: point.attributes ?? {},
    value:
      number !== undefined
        ? number
        : {
            buckets: { boundaries: [...histogram.buckets.boundaries], counts: [...histogram.buckets.counts] },
            count: histogram.count,
            ...(sum === undefined ? {} : { sum }),
            ...(min === undefined ? {} : { min }),
            ...(max === undefined ? {} : { max }),
          },
  } as T;
}

function isHistogram(value: unknown): value is Histogram {
  const histogram = value as Histogram;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof histogram.count === 'number' &&
    Array.isArray(histogram.buckets?.boundaries) &&
    Array.isArray(histogram.buckets?.counts) &&
    histogram.buckets.counts.length === histogram.buckets.boundaries.length + 1
  );
}

function withWorker(attributes: Attributes, worker: string): Attributes {
  const inner = attributes[WORKER_ATTRIBUTE];
  return { ...attributes, [WORKER_ATTRIBUTE]: inner === undefined ? worker : `${worker}/${String(inner)}` };
}

function attributeKey(attributes: Attributes): string {
  return JSON.stringify(Object.keys(attributes).sort().map((key) => [key, attributes[key]]));
}

function sameBoundaries(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}

function earlier(a: HrTime, b: HrTime): HrTime {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b;
}
