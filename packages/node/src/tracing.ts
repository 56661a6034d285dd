import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
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
  const options = {
    ...(config.otlpTracesEndpoint ? { url: config.otlpTracesEndpoint } : {}),
    headers: config.otlpHeaders,
  };
  return config.otlpProtocol === 'http/json' ? new OTLPTraceExporterJson(options) : new OTLPTraceExporterProto(options);
}

/** Creates and registers the global tracer provider (W3C trace context and baggage propagation). */
export function startTracing(config: OtelkitConfig, resource: Resource): NodeTracerProvider {
  const exporter = spanExporterFor(config);
  const spanProcessors: SpanProcessor[] = exporter ? [new BatchSpanProcessor(exporter)] : [];
  const provider = new NodeTracerProvider({ resource, sampler: samplerFor(config), spanProcessors });
  provider.register();
  return provider;
}
