import type { ExportResult } from '@opentelemetry/core';
import type { AggregationOption, AggregationTemporality, AggregationType, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

// The SDK's AggregationTemporality.CUMULATIVE: types only here, so importing @otelkit/node does not load the SDK.
const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
const DEFAULT_AGGREGATION: AggregationOption = { type: 0 as AggregationType.DEFAULT };

/**
 * Applies the allow/deny name filter to a push exporter, as the Prometheus serializer does for
 * `/metrics`: deny lists are views already, but an allow list cannot be one (see `otelkitViews`).
 */
export class FilteringMetricExporter implements PushMetricExporter {
  constructor(
    private readonly exporter: PushMetricExporter,
    private readonly keep: (metricName: string) => boolean,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const scopeMetrics = metrics.scopeMetrics
      .map((scope) => ({ ...scope, metrics: scope.metrics.filter((metric) => this.keep(metric.descriptor.name)) }))
      .filter((scope) => scope.metrics.length > 0);
    this.exporter.export({ ...metrics, scopeMetrics }, resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.exporter.selectAggregationTemporality?.(instrumentType) ?? CUMULATIVE;
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this.exporter.selectAggregation?.(instrumentType) ?? DEFAULT_AGGREGATION;
  }
}

