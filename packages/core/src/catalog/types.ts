/** The kinds of instrument a catalog entry can describe. */
export type InstrumentKind =
  | 'counter'
  | 'updowncounter'
  | 'histogram'
  | 'gauge'
  | 'observable-counter'
  | 'observable-updowncounter'
  | 'observable-gauge';

/**
 * Where a metric's name comes from: a stable OpenTelemetry semantic convention, one still in
 * development (copied here, may change upstream), or otelkit's own where no convention exists.
 */
export type MetricStability = 'stable' | 'development' | 'otelkit';

/**
 * One metric of the otelkit catalog: everything needed to create the instrument and to
 * document it. Bridges take their names from here and never invent their own.
 */
export interface MetricDefinition<K extends InstrumentKind = InstrumentKind> {
  /** OpenTelemetry instrument name, e.g. `http.server.request.duration`. */
  readonly name: string;
  /** Instrument kind. */
  readonly kind: K;
  /** UCUM unit: `s`, `By`, `1`, or an annotation such as `{request}`. */
  readonly unit: string;
  /** What the metric means, in one sentence. */
  readonly description: string;
  /** Attribute keys a data point may carry. */
  readonly attributes: readonly string[];
  /** Explicit bucket boundaries (histograms only), applied as instrument advice and as a view. */
  readonly buckets?: readonly number[];
  /** Provenance of the name. */
  readonly stability: MetricStability;
  /**
   * How a gauge's values from several processes (cluster workers, threads) combine into one series:
   * `sum` (e.g. entries of per-process caches). Absent: one series per process, labelled
   * `otelkit_worker`. Counters and histograms are always summed, up-down counters too.
   */
  readonly acrossProcesses?: 'sum';
}
