import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { httpClientInstrumentationConfig } from './http-server.js';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ContextManager, MeterProvider, TextMapPropagator } from '@opentelemetry/api';
import { describeError, reportOnce } from '@otelkit/core';
import type { OtelkitConfig, TracesExporterName } from './config.js';
import { accountExports } from './exporter-accounting.js';
import { SpanBatcher } from './span-batcher.js';

/*
 * Span recording and export: the SDK tracer provider, samplers, the batch processor and exporters,
 * and instrumentation-http's client spans. Loaded (synchronously, by tracing.ts) only when
 * spans are exported, so a process that exports none never loads the trace SDK.
 */

/** The sampler `OTEL_TRACES_SAMPLER[_ARG]` names. */
export function samplerFor(config: Pick<OtelkitConfig, 'sampler' | 'samplerRatio'>): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplerRatio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The span exporter the configuration asks for, or none:
 * - `OTEL_TRACES_EXPORTER=none`: none;
 * - `console`: spans printed to stdout;
 * - `otlp`, or unset with an OTLP endpoint configured: OTLP/HTTP (protobuf, or JSON by protocol);
 * - unset and no endpoint: none. Spans are still created (trace ids propagate and reach the
 *   `traceresponse` header) but nothing is sent; one info line says so.
 */
export function spanExporterFor(config: OtelkitConfig, name: Exclude<TracesExporterName, 'none'>, selfMetrics?: MeterProvider): SpanExporter {
  if (name === 'console') return new ConsoleSpanExporter();
  return new LazyOtlpSpanExporter(config, selfMetrics);
}

/**
 * The OTLP/HTTP span exporter, imported in the background at start: start() stays synchronous and
 * process start-up does not wait for the exporter's modules (about 20 ms here). Spans ended before
 * the import finishes wait for it in the batch processor's queue.
 */
class LazyOtlpSpanExporter implements SpanExporter {
  private readonly exporter: Promise<SpanExporter | undefined>;

  constructor(config: OtelkitConfig, selfMetrics: MeterProvider | undefined) {
    this.exporter = importOtlpSpanExporter(config, selfMetrics);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exporter.then(
      (exporter) =>
        exporter
          ? exporter.export(spans, resultCallback)
          : resultCallback({ code: ExportResultCode.FAILED, error: new Error('OTLP span exporter unavailable') }),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter)?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await (await this.exporter)?.shutdown();
  }
}

async function importOtlpSpanExporter(config: OtelkitConfig, selfMetrics: MeterProvider | undefined): Promise<SpanExporter | undefined> {
  const options = {
    ...(config.otlpTracesEndpoint ? { url: config.otlpTracesEndpoint } : {}),
    headers: config.otlpTracesHeaders,
  };
  try {
    const json = config.otlpTracesProtocol === 'http/json';
    const { OTLPTraceExporter } = json
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
    const exporter = new OTLPTraceExporter(options);
    if (selfMetrics) {
      accountExports<ReadableSpan[]>(exporter, {
        item: 'span',
        componentType: json ? 'otlp_http_json_span_exporter' : 'otlp_http_span_exporter',
        url: config.otlpTracesEndpoint ?? 'http://localhost:4318/v1/traces',
        countItems: (spans) => spans.length,
        meterProvider: selfMetrics,
      });
    }
    return exporter;
  } catch (error) {
    reportOnce('traces.otlp', `OTLP span export is unavailable: ${describeError(error)}`);
    return undefined;
  }
}


/** The recording side: a registered SDK tracer provider exporting through a batch processor. */
export function startSpanExport(
  config: OtelkitConfig,
  resource: Resource,
  exporterName: Exclude<TracesExporterName, 'none'>,
  contextManager: ContextManager,
  propagator: TextMapPropagator,
  selfMetrics: MeterProvider | undefined,
): { provider: NodeTracerProvider; instrumentations: Instrumentation[] } {
  const exporter = spanExporterFor(config, exporterName, selfMetrics);
  // otelkit's batch processor (span-batcher.ts says why not the SDK's), with otel.sdk.processor.span.*.
  const processor = new SpanBatcher(exporter, {
    scheduledDelayMs: config.bspScheduleDelayMs,
    exportTimeoutMs: config.bspExportTimeoutMs,
    maxQueueSize: config.bspMaxQueueSize,
    maxExportBatchSize: config.bspMaxExportBatchSize,
    ...(selfMetrics ? { selfMetrics } : {}),
  });
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerFor(config),
    spanProcessors: [processor],
    // otel.sdk.span.started and otel.sdk.span.live.
    ...(selfMetrics ? { meterProvider: selfMetrics } : {}),
  });
  provider.register({ contextManager, propagator });
  // Client spans, their traceparent and http.client.request.duration.
  return { provider, instrumentations: [new HttpInstrumentation(httpClientInstrumentationConfig())] };
}
