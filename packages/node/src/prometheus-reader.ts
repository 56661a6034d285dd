import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { InstrumentType, MetricProducer } from '@opentelemetry/sdk-metrics';
import { PrometheusExposition, type Collection, type ExpositionOptions, type ScrapeResponse } from './prometheus/exposition.js';

/**
 * The pull reader behind `/metrics`: `@opentelemetry/exporter-prometheus`'s reader (cumulative, with
 * its aggregation choices), never starting the exporter's own server, with the per-reader cardinality
 * limit the stock exporter does not let one configure. Its collections are exposed by otelkit's
 * {@link PrometheusExposition} (negotiated formats, exemplars, native histograms, shared and sliced
 * scrapes).
 */
export class PrometheusPullReader extends PrometheusExporter {
  private readonly cardinalityLimit: number;
  readonly exposition: PrometheusExposition;
  /**
   * What `/metrics` collections go through: set when this process aggregates others (cluster workers,
   * threads), which `collectOwn` then leaves out. Unset: this process's own collection.
   */
  collectThrough: ((timeoutMs: number) => Promise<Collection>) | undefined;

  constructor(options: { cardinalityLimit: number; metricProducers?: MetricProducer[] } & ExpositionOptions) {
    super({ preventServerStart: true, ...(options.metricProducers ? { metricProducers: options.metricProducers } : {}) });
    this.cardinalityLimit = options.cardinalityLimit;
    this.exposition = new PrometheusExposition((timeoutMs) => (this.collectThrough ? this.collectThrough(timeoutMs) : this.collectOwn(timeoutMs)), options);
  }

  override selectCardinalityLimit(_instrumentType: InstrumentType): number {
    return this.cardinalityLimit;
  }

  /** This process's own collection. */
  collectOwn(timeoutMs: number): Promise<Collection> {
    return this.collect({ timeoutMillis: timeoutMs });
  }

  /** Answers a scrape with these request headers (never rejects). */
  respond(accept: string | undefined, acceptEncoding: string | undefined): Promise<ScrapeResponse> {
    return this.exposition.respond(accept, acceptEncoding);
  }

}
