import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { diag, DiagLogLevel, metrics } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import {
  createInstrument,
  createMetricNameFilter,
  DROPPED_MEASUREMENTS,
  OTELKIT_VERSION,
  createOtelkitMetricProducer,
  describeError,
  registerServiceMetrics,
  reportOnce,
  type BridgeHandle,
  type ModuleBridge,
  type OtelkitMetricProducer,
  type ReadinessCheck,
} from '@otelkit/core';
import { BUILTIN_MODULE_BRIDGES } from './bridges.js';
import { configFromEnv, NEVER_CAPTURED_HEADERS, reportConfigProblems, type OtelkitConfig } from './config.js';
import { StderrDiagLogger } from './diag-logger.js';
import { EndpointServer, healthHandler, metricsHandler, type NodeRequestHandler, type ScrapeResponder } from './endpoints.js';
import type { ScrapeResponse } from './prometheus/exposition.js';
import { HealthRegistry, type ReadinessCheckOptions } from './health.js';
import { instrumentHttpServer } from './http-server.js';
import type { MetricsPipeline } from './metrics.js';
import { DeferredMeterProvider } from './deferred-meter-provider.js';
import { routesFromFastify } from './framework-routes.js';
import { LOG_CORRELATION_BRIDGES } from './log-correlation.js';
import { enabledBridges } from './module-bridges.js';
import { installModuleHooks, registerInstrumentations } from './module-hooks.js';
import { startProcessRole, type ProcessRole } from './processes/roles.js';
import { SelfMetricsMeterProvider } from './self-metrics.js';
import { flushOnSignals, withTimeout } from './shutdown.js';
import { startTracing, tracesExporterOf, type TracingPipeline } from './tracing.js';

/** Options of {@link start}: any configuration value (overriding the environment), plus code-only hooks. */
export type StartOptions = Partial<OtelkitConfig> & {
  /** Zero-code bridges to install (pools, caches, breakers). @default the bridges otelkit ships */
  moduleBridges?: readonly ModuleBridge[];
  /** More OpenTelemetry instrumentations to enable with ours. */
  instrumentations?: readonly Instrumentation[];
};

/** A running otelkit SDK. */
export interface OtelkitSdk {
  /** The configuration in force (environment, then `start()` options). */
  readonly config: Readonly<OtelkitConfig>;
  /** Resolves once the metrics/health port listens, with its address (undefined when it is off or failed). */
  readonly ready: Promise<AddressInfo | undefined>;
  /** Flushes spans and metrics now. Never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes and stops everything otelkit started, within `shutdownTimeoutMs`. Never rejects. */
  shutdown(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** How long after start the metrics SDK loads if nothing needed it before. */
const METRICS_SDK_LOAD_DELAY_MS = 1000;


const health = new HealthRegistry();
let running: RunningSdk | undefined;

/**
 * Starts otelkit: tracing, metrics (Prometheus pull on its own port by default), HTTP server, runtime
 * and zero-code bridge instrumentation, service metrics, health endpoints and flush on SIGTERM/SIGINT.
 * Configuration comes from the standard `OTEL_*` variables (then `OTELKIT_*`), overridden by `options`.
 * Synchronous, so modules are patched before the app's next `require`/`import`. Never throws: a
 * second call returns the running SDK, a failure is reported through `diag` and yields a no-op SDK.
 */
export function start(options: StartOptions = {}): OtelkitSdk {
  if (running) {
    reportOnce('start.twice', 'start() was called again; the running SDK is kept');
    return running;
  }
  const { moduleBridges, instrumentations, ...overrides } = options;
  const { config: fromEnv, problems } = configFromEnv();
  const config: OtelkitConfig = { ...fromEnv, ...definedOnly(overrides) };
  setDiagLogger(config.logLevel);
  reportConfigProblems(problems);
  if (config.disabled) {
    diag.info('otelkit: OTEL_SDK_DISABLED is set; nothing started');
    return disabledSdk(config);
  }
  try {
    running = new RunningSdk(config, moduleBridges ?? BUILTIN_MODULE_BRIDGES, instrumentations ?? []);
    return running;
  } catch (error) {
    reportOnce('start.failed', `otelkit failed to start and is off: ${describeError(error)}`);
    return disabledSdk(config);
  }
}

/** Stops the SDK started by {@link start}, flushing what it buffered. Never rejects. */
export async function shutdown(): Promise<void> {
  await running?.shutdown();
}

/**
 * Adds a readiness check: `/health/ready` answers 503 (with each check's result and latency) while
 * any check fails, throws, rejects or outlasts its timeout. Works before and after `start()`.
 *
 * @example
 * addReadinessCheck('postgres', async () => (await pool.query('select 1')).rowCount === 1);
 */
export function addReadinessCheck(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): void {
  health.add(name, check, options);
}

/** Removes a readiness check added with {@link addReadinessCheck}. */
export function removeReadinessCheck(name: string): boolean {
  return health.remove(name);
}

/**
 * A handler serving `/metrics` on the app's own server (node:http, express; fastify via
 * `reply.hijack()` and `request.raw`/`reply.raw`). Answers 503 until Prometheus metrics are started.
 * Requests to `/metrics` and `/health/*` are never counted as application requests.
 *
 * @example
 * app.get('/metrics', createMetricsHandler());
 */
export function createMetricsHandler(): NodeRequestHandler {
  return metricsHandler(async (accept, acceptEncoding) => {
    if (!running) throw new Error('otelkit Prometheus metrics are not started');
    return running.respond(accept, acceptEncoding);
  });
}

/**
 * A handler serving `/health/live`, `/health/ready` and `/health/startup` (by request path) on the
 * app's own server.
 *
 * @example
 * app.get('/health/*', createHealthHandler());
 */
export function createHealthHandler(): NodeRequestHandler {
  return healthHandler(health);
}

class RunningSdk implements OtelkitSdk {
  readonly ready: Promise<AddressInfo | undefined>;
  private readonly tracing: TracingPipeline;
  private readonly endpoints: EndpointServer;
  /** Where this process stands among cluster workers, PM2 instances and threads (see processes/roles.ts). */
  private readonly role: ProcessRole;
  private readonly cleanups: Array<() => void> = [];
  private readonly serviceMetrics: BridgeHandle;
  // A burst of API measurements before the SDK is there loads it at once (see loadMetrics).
  private readonly meterProvider = new DeferredMeterProvider(() => void this.loadMetrics());
  /** What the SDK's components report their `otel.sdk.*` accounting to, when that is on. */
  private readonly selfMetrics: SelfMetricsMeterProvider | undefined;
  private readonly producer: OtelkitMetricProducer;
  private readonly metricFilter: (metricName: string) => boolean;
  private readonly resource: (build?: (config: OtelkitConfig) => Resource) => Resource;
  private metricsLoad: Promise<MetricsPipeline | undefined> | undefined;
  private readonly loadTimer: NodeJS.Timeout;
  private stopping: Promise<void> | undefined;

  /**
   * Starts what must be there before the app's first line: module hooks (zero-code bridges and
   * instrumentations), HTTP server telemetry, context and propagation, the global meter provider
   * (a deferred one), health and the metrics port. The metrics SDK itself (sdk-metrics, resources,
   * exporters, runtime metrics) loads off the start-up path: at its first use (a scrape or a flush
   * waits for it) or a second after start. Nothing is lost meanwhile: bound instruments aggregate in
   * core's store from the start, and everything else taken from the meter provider is handed to the SDK.
   */
  constructor(
    readonly config: OtelkitConfig,
    bridges: readonly ModuleBridge[],
    extraInstrumentations: readonly Instrumentation[],
  ) {
    health.defaultTimeoutMs = config.healthCheckTimeoutMs;
    health.markRunning();
    // Built on first use: synchronously when spans are recorded (the tracer provider needs it at
    // start), else by the metrics SDK's load, which imports it with the rest.
    let resource: Resource | undefined;
    this.resource = (build) => {
      resource ??= (build ?? (require('./resource.js') as typeof import('./resource.js')).buildResource)(config);
      return resource;
    };
    this.metricFilter = createMetricNameFilter({ allow: config.metricsAllow, deny: config.metricsDeny });
    this.producer = createOtelkitMetricProducer({
      cardinalityLimit: config.cardinalityLimit,
      keep: this.metricFilter,
      // Exemplars point at traces: kept only when spans are exported.
      exemplars: config.exemplarFilter !== 'always_off' && tracesExporterOf(config) !== undefined,
      nativeHistograms: config.nativeHistograms
        ? { schema: config.nativeHistogramSchema, zeroThreshold: config.nativeHistogramZeroThreshold, maxBuckets: config.nativeHistogramMaxBuckets }
        : undefined,
    });
    metrics.setGlobalMeterProvider(this.meterProvider);
    this.selfMetrics = config.sdkMetrics ? new SelfMetricsMeterProvider(this.meterProvider) : undefined;

    const requestHeaders = config.httpRequestHeaders.map((h) => h.toLowerCase()).filter((h) => !NEVER_CAPTURED_HEADERS.includes(h));
    this.tracing = startTracing(config, this.resource, requestHeaders, this.selfMetrics);
    this.cleanups.push(
      instrumentHttpServer({ trace: this.tracing.serverTrace, attach: this.tracing.attach, traceResponseHeader: config.traceResponseHeader }),
    );
    this.cleanups.push(
      installModuleHooks({
        bridges: enabledBridges([...bridges, ...(config.logCorrelation ? LOG_CORRELATION_BRIDGES : [])], config.bridgesDisabled),
        instrumentations: [...this.tracing.instrumentations, ...extraInstrumentations],
        tracerProvider: this.tracing.provider,
        meterProvider: this.meterProvider,
      }),
    );
    // Route templates from frameworks that announce themselves (fastify), unless turned off by name.
    if (!config.bridgesDisabled.includes('fastify') && !config.bridgesDisabled.includes('all')) this.cleanups.push(routesFromFastify());
    this.serviceMetrics = registerServiceMetrics();
    this.reportDroppedMeasurements();

    const respond: ScrapeResponder | undefined = config.metricsExporters.includes('prometheus')
      ? (accept, acceptEncoding) => this.respond(accept, acceptEncoding)
      : undefined;
    this.endpoints = new EndpointServer(respond && metricsHandler(respond), healthHandler(health));
    this.role = startProcessRole({
      config,
      listen: (port) => this.endpoints.listen(config.prometheusHost, port),
      collectOwn: async (timeoutMs) => {
        const prometheus = (await this.loadMetrics())?.prometheus;
        if (!prometheus) throw new Error('otelkit Prometheus metrics are not started');
        return prometheus.collectOwn(timeoutMs);
      },
      ready: async () => (await health.readiness()).status === 'ready',
      addReadinessCheck: (name, check) => health.add(name, check),
      removeReadinessCheck: (name) => void health.remove(name),
      unlisten: () => this.endpoints.close(),
    });
    this.ready = this.role.ready;
    if (config.handleSignals) {
      this.cleanups.push(flushOnSignals(() => this.forceFlush(), () => this.shutdown(), config.shutdownTimeoutMs));
    }
    this.cleanups.push(this.flushBeforeExit());
    // The metrics SDK is the exporters' machinery: it loads when first used (a scrape, a flush,
    // shutdown) or a second after start, whichever comes first, so it is never on the app's start-up
    // path. Unref'd: a process that is done by then never loads it.
    this.loadTimer = setTimeout(() => void this.loadMetrics(), METRICS_SDK_LOAD_DELAY_MS).unref();
  }

  /**
   * When the event loop runs dry (a script that is done, a server that closed), exports what is
   * buffered once: spans waiting in the batch processor, and metrics if something pushes them (OTLP,
   * console). The export keeps the process alive only as long as it takes (at most the OTLP timeout
   * with the collector unreachable); a Prometheus-only process that never loaded the metrics SDK does
   * not load it for this.
   */
  private flushBeforeExit(): () => void {
    const pushesMetrics = this.config.metricsExporters.some((name) => name === 'otlp' || name === 'console');
    const listener = (): void => {
      process.removeListener('beforeExit', listener);
      const metricsFlush = this.metricsLoad !== undefined || pushesMetrics ? this.loadMetrics().then((pipeline) => pipeline?.provider.forceFlush()) : undefined;
      // No timer of ours here: it could only keep the process longer. An export still open ends by
      // the exporter's own timeout, and a failed one is reported (once) by the batch processor.
      void Promise.allSettled([this.tracing.forceFlush(), metricsFlush]);
    };
    process.on('beforeExit', listener);
    return () => process.removeListener('beforeExit', listener);
  }

  /** `otelkit.metric.measurements.dropped`: what the deferred meter provider could not hold, once there is any. */
  private reportDroppedMeasurements(): void {
    const provider = this.meterProvider;
    createInstrument(provider.getMeter('@otelkit/node', OTELKIT_VERSION), DROPPED_MEASUREMENTS).addCallback((result) => {
      if (provider.dropped > 0) result.observe(provider.dropped);
    });
  }

  /** The metrics pipeline, loading it now if it is not loaded yet. Never rejects. */
  loadMetrics(): Promise<MetricsPipeline | undefined> {
    clearTimeout(this.loadTimer);
    this.metricsLoad ??= this.startMetricsSdk().catch((error: unknown) => {
      reportOnce('metrics.load', `the metrics SDK failed to start; metrics are off: ${describeError(error)}`);
      return undefined;
    });
    return this.metricsLoad;
  }

  private async startMetricsSdk(): Promise<MetricsPipeline> {
    const [{ startMetrics }, { buildResource }, runtime] = await Promise.all([
      import('./metrics.js'),
      import('./resource.js'),
      this.config.runtimeMetrics ? import('@opentelemetry/instrumentation-runtime-node') : undefined,
    ]);
    const pipeline = startMetrics(this.config, this.resource(buildResource), this.producer, this.metricFilter, this.selfMetrics);
    if (pipeline.prometheus) pipeline.prometheus.collectThrough = (timeoutMs) => this.role.collect(timeoutMs);
    this.meterProvider.setDelegate(pipeline.provider);
    if (runtime) {
      this.cleanups.push(registerInstrumentations({ instrumentations: [new runtime.RuntimeNodeInstrumentation()], meterProvider: pipeline.provider }));
    }
    return pipeline;
  }

  /** The answer to a `/metrics` request (format negotiated from its headers). */
  async respond(accept: string | undefined, acceptEncoding: string | undefined): Promise<ScrapeResponse> {
    const pipeline = await this.loadMetrics();
    if (!pipeline?.prometheus) throw new Error('otelkit Prometheus metrics are not started');
    return pipeline.prometheus.respond(accept, acceptEncoding);
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled([this.tracing.forceFlush(), this.loadMetrics().then((pipeline) => pipeline?.provider.forceFlush())]);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    health.markShuttingDown();
    // A worker's final counts go to its parent before its metrics stop (they stay in the aggregate).
    // At most half the shutdown budget, so the flush that follows keeps the rest.
    await this.role.stop(Math.min(this.config.clusterTimeoutMs, this.config.shutdownTimeoutMs / 2)).catch((error: unknown) => {
      reportOnce('shutdown.role', `handing final counts to the metrics aggregator failed: ${describeError(error)}`);
    });
    const flushAndStop = Promise.allSettled([this.tracing.shutdown(), this.loadMetrics().then((pipeline) => pipeline?.shutdown())]).then(
      (results) => {
        for (const result of results) {
          if (result.status === 'rejected') reportOnce('shutdown.provider', `shutdown failed: ${describeError(result.reason)}`);
        }
      },
    );
    await withTimeout(flushAndStop, this.config.shutdownTimeoutMs);
    this.producer.detach();
    this.serviceMetrics.unbind();
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        reportOnce('shutdown.cleanup', `cleanup failed: ${describeError(error)}`);
      }
    }
    await this.endpoints.close();
    // Leave no global behind, so a later start() registers its own provider (the API refuses a second one).
    if (metrics.getMeterProvider() === this.meterProvider) metrics.disable();
    if (running === this) running = undefined;
  }
}

function disabledSdk(config: OtelkitConfig): OtelkitSdk {
  return {
    config,
    ready: Promise.resolve(undefined),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

const LOG_LEVELS: Record<OtelkitConfig['logLevel'], DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** Sends diagnostics at `level` and above to stderr (the preload calls it before its first check). */
export function setDiagLogger(level: OtelkitConfig['logLevel']): void {
  if (level === 'none') return;
  diag.setLogger(new StderrDiagLogger(), { logLevel: LOG_LEVELS[level], suppressOverrideMessage: true });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

