import type { Resource } from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  AggregationType,
  ConsoleMetricExporter,
  InstrumentType,
  type AggregationOption,
  type ResourceMetrics,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { createOtelkitMetricProducer, describeError, otelkitViews, reportOnce, type OtelkitMetricProducer } from '@otelkit/core';
import type { OtelkitConfig } from './config.js';
import type { MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { accountExports } from './exporter-accounting.js';
import { FilteringMetricExporter } from './filtering-exporter.js';
import { PrometheusPullReader } from './prometheus-reader.js';

/** The meter provider and, when Prometheus is on, the pull reader behind `/metrics`. */
export type MetricsPipeline = {
  provider: MeterProvider;
  prometheus: PrometheusPullReader | undefined;
  /** Shuts the provider down and hands bound instruments back to the API path. */
  shutdown(): Promise<void>;
};

/**
 * Creates the meter provider with otelkit's views and the readers the configuration names.
 * `producer` (otelkit's bound instruments: HTTP server duration, breaker, pool, operation timer)
 * reaches every reader, filtered and limited as the SDK's own instruments are.
 */
export function startMetrics(
  config: OtelkitConfig,
  resource: Resource,
  producer: OtelkitMetricProducer,
  filter: (metricName: string) => boolean,
  selfMetrics?: ApiMeterProvider,
): MetricsPipeline {
  const metricProducers = [producer];
  const exponential = config.otlpMetricsHistogramAggregation === 'base2_exponential_bucket_histogram';
  const delta = config.otlpMetricsTemporality !== 'cumulative';
  // OTLP with exponential histograms or delta temporality reads the bound instruments through a
  // producer of its own (bound instruments are counters and histograms: delta under both preferences).
  const otlpProducer =
    (exponential || delta) && config.metricsExporters.includes('otlp')
      ? createOtelkitMetricProducer({ keep: filter, histograms: exponential ? 'exponential' : 'explicit', temporality: delta ? 'delta' : 'cumulative' })
      : undefined;
  const readers: IMetricReader[] = [];
  let prometheus: PrometheusPullReader | undefined;
  for (const name of new Set(config.metricsExporters)) {
    if (name === 'prometheus') {
      prometheus = new PrometheusPullReader({
        cardinalityLimit: config.cardinalityLimit,
        filter,
        metricProducers,
        translationStrategy: config.prometheusTranslationStrategy,
        resourceLabels: config.prometheusResourceLabels,
        timeoutMs: config.scrapeTimeoutMs,
      });
      readers.push(prometheus);
    } else if (name === 'console') {
      readers.push(periodic(new FilteringMetricExporter(new ConsoleMetricExporter(), filter), config, metricProducers));
    } else if (name === 'otlp') {
      readers.push(periodic(new FilteringMetricExporter(new LazyOtlpMetricExporter(config, selfMetrics), filter), config, otlpProducer ? [otlpProducer] : metricProducers));
    }
  }
  if (readers.length === 0) producer.detach();
  const provider = new MeterProvider({
    resource,
    readers,
    views: otelkitViews({ deny: config.metricsDeny, cardinalityLimit: config.cardinalityLimit }),
    // otel.sdk.metric_reader.collection.duration, per reader.
    sdkMetricsEnabled: selfMetrics !== undefined,
  });
  return {
    provider,
    prometheus,
    shutdown: async () => {
      try {
        await provider.shutdown();
      } finally {
        producer.detach();
        otlpProducer?.detach();
      }
    },
  };
}

function periodic(exporter: PushMetricExporter, config: OtelkitConfig, metricProducers: MetricProducer[]): PeriodicExportingMetricReader {
  let timeout = config.metricExportTimeoutMs;
  if (timeout > config.metricExportIntervalMs) {
    reportOnce('metrics.export-timeout', `OTEL_METRIC_EXPORT_TIMEOUT (${timeout} ms) is longer than OTEL_METRIC_EXPORT_INTERVAL; using ${config.metricExportIntervalMs} ms`);
    timeout = config.metricExportIntervalMs;
  }
  return new PeriodicExportingMetricReader({
    exporter,
    metricProducers,
    exportIntervalMillis: config.metricExportIntervalMs,
    exportTimeoutMillis: timeout,
    cardinalityLimits: { default: config.cardinalityLimit },
  });
}

/**
 * The temporality an OTLP metric exporter asks for, by instrument, as the specification's
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` defines it.
 */
export function temporalityFor(preference: OtelkitConfig['otlpMetricsTemporality'], instrumentType: InstrumentType): AggregationTemporality {
  if (preference === 'cumulative') return AggregationTemporality.CUMULATIVE;
  switch (instrumentType) {
    case InstrumentType.COUNTER:
    case InstrumentType.HISTOGRAM:
      return AggregationTemporality.DELTA;
    case InstrumentType.OBSERVABLE_COUNTER:
      return preference === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    default:
      return AggregationTemporality.CUMULATIVE;
  }
}

/**
 * The OTLP metric exporter, loaded on first use so that starting (which must stay synchronous, to
 * patch modules before the app loads them) and the common Prometheus-only setup do not pay for it.
 */
class LazyOtlpMetricExporter implements PushMetricExporter {
  private readonly exporter: Promise<PushMetricExporter | undefined>;
  private readonly exponential: boolean;
  private readonly temporality: OtelkitConfig['otlpMetricsTemporality'];

  constructor(config: OtelkitConfig, selfMetrics: ApiMeterProvider | undefined) {
    this.exporter = otlpMetricExporter(config, selfMetrics);
    this.temporality = config.otlpMetricsTemporality;
    this.exponential = config.otlpMetricsHistogramAggregation === 'base2_exponential_bucket_histogram';
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.exporter.then(
      (exporter) =>
        exporter
          ? exporter.export(metrics, resultCallback)
          : resultCallback({ code: ExportResultCode.FAILED, error: new Error('OTLP metric exporter unavailable') }),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter)?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await (await this.exporter)?.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return temporalityFor(this.temporality, instrumentType);
  }

  /** Histograms with no view of their own as the configuration says (views, e.g. the catalog's, win). */
  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    if (instrumentType === InstrumentType.HISTOGRAM && this.exponential) return { type: AggregationType.EXPONENTIAL_HISTOGRAM };
    return { type: AggregationType.DEFAULT };
  }
}

async function otlpMetricExporter(config: OtelkitConfig, selfMetrics: ApiMeterProvider | undefined): Promise<PushMetricExporter | undefined> {
  const options = { ...(config.otlpMetricsEndpoint ? { url: config.otlpMetricsEndpoint } : {}), headers: config.otlpMetricsHeaders };
  try {
    const json = config.otlpMetricsProtocol === 'http/json';
    const { OTLPMetricExporter } = json
      ? await import('@opentelemetry/exporter-metrics-otlp-http')
      : await import('@opentelemetry/exporter-metrics-otlp-proto');
    const exporter = new OTLPMetricExporter(options);
    if (selfMetrics) {
      accountExports<ResourceMetrics>(exporter, {
        item: 'metric_data_point',
        componentType: json ? 'otlp_http_json_metric_exporter' : 'otlp_http_metric_exporter',
        url: config.otlpMetricsEndpoint ?? 'http://localhost:4318/v1/metrics',
        countItems: countDataPoints,
        meterProvider: selfMetrics,
      });
    }
    return exporter;
  } catch (error) {
    reportOnce('metrics.otlp', `OTLP metric export is unavailable: ${describeError(error)}`);
    return undefined;
  }
}

function countDataPoints(metrics: ResourceMetrics): number {
  let points = 0;
  for (const scope of metrics.scopeMetrics) for (const metric of scope.metrics) points += metric.dataPoints.length;
  return points;
}
