import type { AggregationType, ViewOptions } from '@opentelemetry/sdk-metrics';
import { DURATION_BUCKETS_SECONDS } from './buckets.js';
import { METRIC_CATALOG } from './catalog/index.js';
import { HTTP_SERVER_REQUEST_DURATION } from './catalog/http.js';
import { matchesAny } from './glob.js';

/**
 * Cardinality limit otelkit applies per metric stream: the SDK's own default (2000), stated so that
 * every view we build carries it (a view that sets none would fall back silently).
 */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

// Values of the SDK's AggregationType enum; core imports the SDK's types only, never its code.
const DROP = 1 as AggregationType.DROP;
const EXPLICIT_BUCKET_HISTOGRAM = 4 as AggregationType.EXPLICIT_BUCKET_HISTOGRAM;

/**
 * A view that gives the histogram `instrumentName` explicit bucket boundaries (default: the
 * 10 ms–10 s duration buckets). Use it for histograms otelkit does not create, whose advice it
 * cannot set (instrumentation-http's `http.server.request.duration`).
 *
 * @example
 * new MeterProvider({ views: [durationHistogramView('rpc.server.duration')] });
 */
export function durationHistogramView(
  instrumentName: string,
  boundaries: readonly number[] = DURATION_BUCKETS_SECONDS,
  cardinalityLimit = DEFAULT_CARDINALITY_LIMIT,
): ViewOptions {
  return {
    instrumentName,
    aggregation: { type: EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...boundaries] } },
    aggregationCardinalityLimit: cardinalityLimit,
  };
}

/**
 * A view that caps the number of attribute sets per stream for instruments matching `instrumentName`
 * (a glob, `*` for all); past the limit new sets fold into one `otel.metric.overflow=true` series.
 */
export function cardinalityLimitView(instrumentName: string, limit: number): ViewOptions {
  return { instrumentName, aggregationCardinalityLimit: limit };
}

/** A view that drops every instrument matching the glob: nothing of it is collected or exported. */
export function dropView(instrumentName: string): ViewOptions {
  return { instrumentName, aggregation: { type: DROP } };
}

/** Options of {@link otelkitViews}. */
export type OtelkitViewOptions = {
  /** Metrics whose name matches one of these globs (`*` is the only wildcard) are dropped. */
  deny?: readonly string[];
  /** Attribute sets per stream of the histograms these views select. @default 2000 */
  cardinalityLimit?: number;
  /** Bucket boundaries of otelkit's duration histograms. @default DURATION_BUCKETS_SECONDS */
  durationBuckets?: readonly number[];
};

/**
 * The views otelkit installs: a drop view per deny glob, and explicit 10 ms–10 s buckets with the
 * cardinality limit for every duration histogram of the catalog (instrumentation-http's
 * `http.server.request.duration` included) that is not denied.
 *
 * No two of these views select the same instrument. That is deliberate: when several views select
 * one instrument and yield streams of the same name, sdk-metrics 2.x reuses one storage for all of
 * them and records every measurement once per view (double counting). For the same reason an allow
 * list cannot be expressed as views (it would need "everything else"): use
 * {@link createMetricNameFilter} at export time for that, as `@otelkit/node` does.
 *
 * @example
 * new MeterProvider({ views: otelkitViews({ deny: ['v8js.*'] }), readers: [reader] });
 */
export function otelkitViews(options: OtelkitViewOptions = {}): ViewOptions[] {
  const limit = options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
  const deny = options.deny ?? [];
  const views: ViewOptions[] = deny.map(dropView);
  const histograms = METRIC_CATALOG.filter((metric) => metric.kind === 'histogram');
  if (!histograms.includes(HTTP_SERVER_REQUEST_DURATION)) histograms.unshift(HTTP_SERVER_REQUEST_DURATION);
  for (const metric of histograms) {
    if (matchesAny(metric.name, deny)) continue;
    const buckets = options.durationBuckets ?? metric.buckets ?? DURATION_BUCKETS_SECONDS;
    views.push(durationHistogramView(metric.name, buckets, limit));
  }
  return views;
}

/** Options of {@link createMetricNameFilter}. */
export type MetricNameFilterOptions = {
  /**
   * Only metrics whose name matches one of these globs are kept (the seeds' rule: "only operational
   * metrics reach /metrics"). Unset: every metric is kept.
   * @example ['http.*', 'db.client.*', 'process.*']
   */
  allow?: readonly string[];
  /** Metrics whose name matches one of these globs are dropped; deny wins over allow. */
  deny?: readonly string[];
};

/**
 * A predicate over metric names from allow/deny globs, for exporters to apply to collected data.
 * Names are matched once and remembered, so a scrape pays a map lookup per metric.
 */
export function createMetricNameFilter(options: MetricNameFilterOptions): (metricName: string) => boolean {
  const allow = options.allow;
  const deny = options.deny ?? [];
  const decided = new Map<string, boolean>();
  return (metricName) => {
    let keep = decided.get(metricName);
    if (keep === undefined) {
      keep = !matchesAny(metricName, deny) && (allow === undefined || matchesAny(metricName, allow));
      decided.set(metricName, keep);
    }
    return keep;
  };
}
