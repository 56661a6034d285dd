import { context, diag, propagation, trace } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type { TracerProvider } from '@opentelemetry/api';
import { OTELKIT_VERSION } from '@otelkit/core';
import type { AttachContext } from './http-server.js';
import { propagateToOutgoingRequests } from './outgoing-propagation.js';
import { OtelkitContextManager } from './context-manager.js';
import { W3CPropagator } from './w3c-propagator.js';
import { PropagatingServerTrace, RecordingServerTrace, type ServerTrace } from './server-trace.js';
import type { OtelkitConfig, TracesExporterName } from './config.js';

const require = createRequire(import.meta.url);

/**
 * The trace exporter the configuration asks for, or undefined for none:
 * - `OTEL_TRACES_EXPORTER=none`: none;
 * - `console`: spans printed to stdout;
 * - `otlp`, or unset with an OTLP endpoint configured: OTLP/HTTP (protobuf, or JSON by protocol);
 * - unset and no endpoint: none. Server requests still get a span context (trace ids propagate and
 *   reach the `traceresponse` header) but no span is recorded; one info line says so.
 */
export function tracesExporterOf(config: OtelkitConfig): Exclude<TracesExporterName, 'none'> | undefined {
  const exporter = config.tracesExporter ?? (config.otlpTracesEndpoint ? 'otlp' : undefined);
  if (exporter === undefined) {
    diag.info('otelkit: no OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT); spans are not recorded, trace context still propagates');
    return undefined;
  }
  return exporter === 'none' ? undefined : exporter;
}

/** The tracing side of a running SDK: how server requests join traces, and what to flush and stop. */
export type TracingPipeline = {
  /** How server requests get their span (recording when spans are exported, else a span context only). */
  serverTrace: ServerTrace;
  /** Makes a context active for the rest of the current request's work. */
  attach: AttachContext;
  /** The SDK tracer provider, only when spans are exported. */
  provider: (TracerProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> }) | undefined;
  /** Instrumentations that only matter when spans are recorded (client spans, express middleware spans). */
  instrumentations: Instrumentation[];
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
export function startTracing(config: OtelkitConfig, resource: () => Resource, requestHeaders: readonly string[]): TracingPipeline {
  const contextManager = new OtelkitContextManager();
  const attach: AttachContext = (ctx) => contextManager.enter(ctx);
  const exporterName = tracesExporterOf(config);
  if (exporterName === undefined) {
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new W3CPropagator());
    const stopPropagating = propagateToOutgoingRequests({ http: true, undici: true });
    return {
      serverTrace: new PropagatingServerTrace(config.sampler, config.samplerRatio),
      attach,
      provider: undefined,
      instrumentations: [],
      forceFlush: async () => {},
      shutdown: async () => {
        stopPropagating();
        context.disable();
        propagation.disable();
      },
    };
  }
  const { startSpanExport } = require('./span-export.js') as typeof import('./span-export.js');
  const { provider, instrumentations } = startSpanExport(config, resource(), exporterName, contextManager, new W3CPropagator());
  // instrumentation-http covers node:http clients; fetch and undici get their traceparent here.
  const stopPropagating = propagateToOutgoingRequests({ http: false, undici: true });
  return {
    serverTrace: new RecordingServerTrace(provider.getTracer('@otelkit/node', OTELKIT_VERSION), requestHeaders),
    attach,
    provider,
    instrumentations,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      stopPropagating();
      try {
        await provider.shutdown();
      } finally {
        // Unregister what provider.register() set (the API refuses a second registration, so the
        // globals are ours), so a later start() can register again.
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
