import { context, diag, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, ExportResultCode, W3CBaggagePropagator, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { describeError, OTELKIT_VERSION, reportOnce } from '@otelkit/core';
import type { AttachContext } from './http-server.js';
import { PropagatingServerTrace, RecordingServerTrace, type ServerTrace } from './server-trace.js';
import type { OtelkitConfig } from './config.js';

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
export function spanExporterFor(config: OtelkitConfig): SpanExporter | undefined {
  const exporter = config.tracesExporter ?? (config.otlpTracesEndpoint ? 'otlp' : undefined);
  if (exporter === undefined) {
    diag.info('otelkit: no OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT); spans are created but not exported');
    return undefined;
  }
  if (exporter === 'none') return undefined;
  if (exporter === 'console') return new ConsoleSpanExporter();
  return new LazyOtlpSpanExporter(config);
}

/**
 * The OTLP/HTTP span exporter, imported in the background at start: start() stays synchronous and
 * process start-up does not wait for the exporter's modules (about 20 ms here). Spans ended before
 * the import finishes wait for it in the batch processor's queue.
 */
class LazyOtlpSpanExporter implements SpanExporter {
  private readonly exporter: Promise<SpanExporter | undefined>;

  constructor(config: OtelkitConfig) {
    this.exporter = importOtlpSpanExporter(config);
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

async function importOtlpSpanExporter(config: OtelkitConfig): Promise<SpanExporter | undefined> {
  const options = {
    ...(config.otlpTracesEndpoint ? { url: config.otlpTracesEndpoint } : {}),
    headers: config.otlpTracesHeaders,
  };
  try {
    if (config.otlpTracesProtocol === 'http/json') {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter(options);
    }
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter(options);
  } catch (error) {
    reportOnce('traces.otlp', `OTLP span export is unavailable: ${describeError(error)}`);
    return undefined;
  }
}

/** The tracing side of a running SDK: how server requests join traces, and what to flush and stop. */
export type TracingPipeline = {
  /** How server requests get their span (recording when spans are exported, else a span context only). */
  serverTrace: ServerTrace;
  /** Makes a context active for the rest of the current request's work. */
  attach: AttachContext;
  /** The SDK tracer provider, only when spans are exported. */
  provider: NodeTracerProvider | undefined;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
};

/**
 * Sets up tracing. When spans are exported (an OTLP endpoint, or `OTEL_TRACES_EXPORTER`), the SDK
 * tracer provider records them through a batch span processor. When none are (the default), no
 * tracer provider is created at all: server requests get a propagated span context only, which
 * keeps `traceresponse` and W3C trace context on outgoing calls at the cost of two random ids.
 * Either way the context manager (AsyncLocalStorage) and the W3C trace-context and baggage
 * propagators are registered globally.
 */
export function startTracing(config: OtelkitConfig, resource: Resource, requestHeaders: readonly string[]): TracingPipeline {
  const contextManager = new AsyncLocalStorageContextManager();
  const attach: AttachContext = (ctx) => contextManager.attach(ctx);
  const exporter = spanExporterFor(config);
  if (exporter === undefined) {
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    return {
      serverTrace: new PropagatingServerTrace(config.sampler, config.samplerRatio),
      attach,
      provider: undefined,
      forceFlush: async () => {},
      shutdown: async () => {
        context.disable();
        propagation.disable();
      },
    };
  }
  const provider = new NodeTracerProvider({ resource, sampler: samplerFor(config), spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register({ contextManager });
  return {
    serverTrace: new RecordingServerTrace(provider.getTracer('@otelkit/node', OTELKIT_VERSION), requestHeaders),
    attach,
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
