import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { InstrumentType, MetricProducer } from '@opentelemetry/sdk-metrics';
import { describeError, reportOnce } from '@otelkit/core';
import { serializePrometheus, type PrometheusSerializerOptions } from './prometheus-serializer.js';

/**
 * The pull reader behind `/metrics`: `@opentelemetry/exporter-prometheus`'s reader (cumulative, with
 * its aggregation choices), never starting the exporter's own server, serialized by otelkit's
 * spec-compliant serializer (unit suffixes). Adds the per-reader cardinality limit the stock
 * exporter does not let one configure.
 */
export class PrometheusPullReader extends PrometheusExporter {
  private readonly cardinalityLimit: number;
  private readonly serializerOptions: PrometheusSerializerOptions;

  constructor(options: { cardinalityLimit: number; metricProducers?: MetricProducer[] } & PrometheusSerializerOptions) {
    super({ preventServerStart: true, ...(options.metricProducers ? { metricProducers: options.metricProducers } : {}) });
    this.cardinalityLimit = options.cardinalityLimit;
    this.serializerOptions = options;
  }

  override selectCardinalityLimit(_instrumentType: InstrumentType): number {
    return this.cardinalityLimit;
  }

  /** Collects now and returns the Prometheus text. Collection errors are reported once, not thrown. */
  async scrape(): Promise<string> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) {
      reportOnce('prometheus.collect', `some metrics failed to collect: ${errors.map(describeError).join('; ')}`);
    }
    return serializePrometheus(resourceMetrics, this.serializerOptions);
  }
}
