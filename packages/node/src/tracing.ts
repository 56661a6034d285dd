import { context, diag, propagation, trace } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
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
export function startTracing(
  config: OtelkitConfig,
  resource: () => Resource,
  requestHeaders: readonly string[],
  selfMetrics?: MeterProvider,
): TracingPipeline {
  const contextManager = new OtelkitContextManager();
  const attach: AttachContext = (ctx) => contextManager.enter(ctx);
  const exporterName = tracesExporterOf(config);
  if (exporterName === undefined) {
    const propagator = new W3CPropagator();
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(propagator);
    const stopPropagating = propagateToOutgoingRequests({ http: true, undici: true });
    return {
      serverTrace: new PropagatingServerTrace(config.sampler, config.samplerRatio),
      attach,
      provider: undefined,
      instrumentations: [],
      forceFlush: async () => {},
      shutdown: async () => {
        stopPropagating();
        releaseGlobals(contextManager, propagator, undefined);
      },
    };
  }
  const { startSpanExport } = require('./span-export.js') as typeof import('./span-export.js');
  const propagator = new W3CPropagator();
  const { provider, instrumentations } = startSpanExport(config, resource(), exporterName, contextManager, propagator, selfMetrics);
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
        // Unregister what provider.register() set, so a later start() can register again.
        releaseGlobals(contextManager, propagator, provider);
      }
    },
  };
}

type ApiInternals = {
  context: { _getContextManager?: () => unknown };
  propagation: { _getGlobalPropagator?: () => unknown };
  trace: { getTracerProvider: () => { getDelegate?: () => unknown } };
};

/**
 * Unregisters the API globals that are otelkit's, and only those: an app that registered its own
 * (before us, so the API refused ours) keeps them, and so does a later start() when an earlier
 * shutdown finishes late.
 */
function releaseGlobals(contextManager: unknown, propagator: unknown, tracerProvider: unknown): void {
  const api = { context, propagation, trace } as unknown as ApiInternals;
  if (tracerProvider !== undefined && api.trace.getTracerProvider().getDelegate?.() === tracerProvider) trace.disable();
  if (api.context._getContextManager?.() === contextManager) context.disable();
  if (api.propagation._getGlobalPropagator?.() === propagator) propagation.disable();
}
