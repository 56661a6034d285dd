import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  describeError,
  registerServiceMetrics,
  reportOnce,
  serviceResourceAttributes,
  type BridgeHandle,
  type ModuleBridge,
  type ReadinessCheck,
} from '@otelkit/core';
import { BUILTIN_MODULE_BRIDGES } from './bridges.js';
import { hookCommonJsLoadedFromEsm } from './cjs-from-esm.js';
import { configFromEnv, NEVER_CAPTURED_HEADERS, reportConfigProblems, type OtelkitConfig } from './config.js';
import { StderrDiagLogger } from './diag-logger.js';
import { EndpointServer, healthHandler, metricsHandler, type NodeRequestHandler } from './endpoints.js';
import { HealthRegistry, type ReadinessCheckOptions } from './health.js';
import { instrumentHttpServer } from './http-server.js';
import { startMetrics, type MetricsPipeline } from './metrics.js';
import { enabledBridges, moduleBridgeInstrumentation } from './module-bridges.js';
import { flushOnSignals, withTimeout } from './shutdown.js';
import { entryPackage } from './service-identity.js';
import { startTracing, type TracingPipeline } from './tracing.js';

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
  return metricsHandler(async () => {
    const reader = running?.metrics.prometheus;
    if (!reader) throw new Error('otelkit Prometheus metrics are not started');
    return reader.scrape();
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
  readonly metrics: MetricsPipeline;
  private readonly tracing: TracingPipeline;
  private readonly endpoints: EndpointServer;
  private readonly cleanups: Array<() => void> = [];
  private readonly serviceMetrics: BridgeHandle;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: OtelkitConfig,
    bridges: readonly ModuleBridge[],
    extraInstrumentations: readonly Instrumentation[],
  ) {
    health.defaultTimeoutMs = config.healthCheckTimeoutMs;
    const resource = buildResource(config);
    const requestHeaders = config.httpRequestHeaders.map((h) => h.toLowerCase()).filter((h) => !NEVER_CAPTURED_HEADERS.includes(h));
    this.tracing = startTracing(config, resource, requestHeaders);
    this.metrics = startMetrics(config, resource);
    this.cleanups.push(
      instrumentHttpServer({ trace: this.tracing.serverTrace, attach: this.tracing.attach, traceResponseHeader: config.traceResponseHeader }),
    );
    const instrumentations: Instrumentation[] = [
      // Client and express middleware spans, only when spans are recorded.
      ...this.tracing.instrumentations,
      ...(config.runtimeMetrics ? [new RuntimeNodeInstrumentation()] : []),
      ...enabledBridges(bridges, config.bridgesDisabled).map(moduleBridgeInstrumentation),
      ...extraInstrumentations,
    ];
    this.cleanups.push(
      registerInstrumentations({ instrumentations, ...(this.tracing.provider ? { tracerProvider: this.tracing.provider } : {}), meterProvider: this.metrics.provider }),
    );
    this.cleanups.push(hookCommonJsLoadedFromEsm());
    this.serviceMetrics = registerServiceMetrics();

    const scrape = this.metrics.prometheus ? () => this.metrics.prometheus!.scrape() : undefined;
    this.endpoints = new EndpointServer(scrape && metricsHandler(scrape), healthHandler(health));
    this.ready = this.endpoints.listen(config.prometheusHost, config.prometheusPort);
    if (config.handleSignals) {
      this.cleanups.push(flushOnSignals(() => this.forceFlush(), () => this.shutdown(), config.shutdownTimeoutMs));
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled([this.tracing.forceFlush(), this.metrics.provider.forceFlush()]);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    health.markShuttingDown();
    const flushAndStop = Promise.allSettled([this.tracing.shutdown(), this.metrics.shutdown()]).then(
      (results) => {
        for (const result of results) {
          if (result.status === 'rejected') reportOnce('shutdown.provider', `shutdown failed: ${describeError(result.reason)}`);
        }
      },
    );
    await withTimeout(flushAndStop, this.config.shutdownTimeoutMs);
    this.serviceMetrics.unbind();
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        reportOnce('shutdown.cleanup', `cleanup failed: ${describeError(error)}`);
      }
    }
    await this.endpoints.close();
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

function buildResource(config: OtelkitConfig): Resource {
  const attributes = { ...config.resourceAttributes };
  const entry = entryPackage();
  const serviceName =
    config.serviceName ?? attributes['service.name'] ?? entry?.name ?? process.env.npm_package_name ?? 'unknown_service:node';
  const identity = serviceResourceAttributes({
    name: serviceName,
    version: attributes['service.version'] ?? entry?.version ?? process.env.npm_package_version,
    environment: attributes['deployment.environment.name'],
    instanceId: attributes['service.instance.id'] ?? randomUUID(),
  });
  return defaultResource().merge(resourceFromAttributes({ ...attributes, ...identity }));
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

function setDiagLogger(level: OtelkitConfig['logLevel']): void {
  if (level === 'none') return;
  diag.setLogger(new StderrDiagLogger(), { logLevel: LOG_LEVELS[level], suppressOverrideMessage: true });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

