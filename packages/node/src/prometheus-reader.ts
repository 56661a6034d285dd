import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { InstrumentType, MetricProducer } from '@opentelemetry/sdk-metrics';
import { PrometheusExposition, type ExpositionOptions, type ScrapeResponse } from './prometheus/exposition.js';

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

  constructor(options: { cardinalityLimit: number; metricProducers?: MetricProducer[] } & ExpositionOptions) {
    super({ preventServerStart: true, ...(options.metricProducers ? { metricProducers: options.metricProducers } : {}) });
    this.cardinalityLimit = options.cardinalityLimit;
    this.exposition = new PrometheusExposition((timeoutMillis) => this.collect({ timeoutMillis }), options);
  }

  override selectCardinalityLimit(_instrumentType: InstrumentType): number {
    return this.cardinalityLimit;
  }

  /** Answers a scrape with these request headers (never rejects). */
  respond(accept: string | undefined, acceptEncoding: string | undefined): Promise<ScrapeResponse> {
    return this.exposition.respond(accept, acceptEncoding);
  }

}
