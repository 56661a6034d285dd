import { diag } from '@opentelemetry/api';
import { TRANSLATION_STRATEGIES, type TranslationStrategy } from './prometheus/names.js';

/** Trace exporters otelkit can start: `otlp` (OTLP/HTTP), `console`, or `none`. */
export type TracesExporterName = 'otlp' | 'console' | 'none';
/** Metric exporters otelkit can start: `prometheus` (pull), `otlp` (push), `console`, or `none`. */
export type MetricsExporterName = 'prometheus' | 'otlp' | 'console' | 'none';
/** OTLP/HTTP encodings. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';
/** Samplers named by `OTEL_TRACES_SAMPLER`. */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/**
 * Everything `start()` needs, fully resolved. `start(options)` takes a partial of this; the preload
 * builds it from environment variables with {@link configFromEnv}.
 */
export type OtelkitConfig = {
  /** `OTEL_SDK_DISABLED`: start nothing. */
  disabled: boolean;
  /** `OTEL_SERVICE_NAME` (else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else the package name). */
  serviceName: string | undefined;
  /** Extra resource attributes, `OTEL_RESOURCE_ATTRIBUTES`. */
  resourceAttributes: Record<string, string>;
  /** `OTEL_TRACES_EXPORTER`; undefined means "not set", see the README for what that does. */
  tracesExporter: TracesExporterName | undefined;
  /** `OTEL_METRICS_EXPORTER` (a list). @default ['prometheus'] */
  metricsExporters: MetricsExporterName[];
  /** Traces endpoint: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  otlpTracesEndpoint: string | undefined;
  /** Metrics endpoint, as for traces with `/v1/metrics`. */
  otlpMetricsEndpoint: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`. @default 'http/protobuf' */
  otlpTracesProtocol: OtlpProtocol;
  /** `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`. @default 'http/protobuf' */
  otlpMetricsProtocol: OtlpProtocol;
  /** `OTEL_EXPORTER_OTLP_HEADERS` merged with `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, decoded. */
  otlpTracesHeaders: Record<string, string>;
  /** `OTEL_EXPORTER_OTLP_HEADERS` merged with `OTEL_EXPORTER_OTLP_METRICS_HEADERS`, decoded. */
  otlpMetricsHeaders: Record<string, string>;
  /** `OTEL_TRACES_SAMPLER`. @default 'parentbased_always_on' */
  sampler: SamplerName;
  /** `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers, 0..1. @default 1 */
  samplerRatio: number;
  /** `OTEL_EXPORTER_PROMETHEUS_HOST`. @default '127.0.0.1' (loopback: not exposed unless configured) */
  prometheusHost: string;
  /** `OTEL_EXPORTER_PROMETHEUS_PORT`; 0 picks a free port. @default 9464 */
  prometheusPort: number;
  /** `OTEL_LOG_LEVEL`. @default 'warn' */
  logLevel: 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
  /** `OTELKIT_METRICS_ALLOW`: keep only metrics matching these globs. */
  metricsAllow: string[] | undefined;
  /** `OTELKIT_METRICS_DENY`: drop metrics matching these globs. */
  metricsDeny: string[];
  /** `OTELKIT_CARDINALITY_LIMIT`: attribute sets per metric stream. @default 2000 */
  cardinalityLimit: number;
  /** `OTELKIT_SHUTDOWN_TIMEOUT_MS`: how long a SIGTERM/SIGINT waits for the flush. @default 5000 */
  shutdownTimeoutMs: number;
  /** `OTELKIT_HANDLE_SIGNALS`: flush on SIGTERM/SIGINT. @default true */
  handleSignals: boolean;
  /** `OTELKIT_HTTP_REQUEST_HEADERS`: request headers recorded on server spans (Authorization and Cookie never). */
  httpRequestHeaders: string[];
  /** `OTELKIT_TRACE_RESPONSE_HEADER`: send `traceresponse` on every instrumented response. @default true */
  traceResponseHeader: boolean;
  /** `OTELKIT_RUNTIME_METRICS`: event loop, GC and heap metrics. @default true */
  runtimeMetrics: boolean;
  /** `OTELKIT_HEALTH_CHECK_TIMEOUT_MS`: default timeout of each readiness check. @default 2000 */
  healthCheckTimeoutMs: number;
  /** `OTELKIT_BRIDGES_DISABLED`: names of zero-code bridges to leave off (`all` for every one). */
  bridgesDisabled: string[];
  /**
   * `OTELKIT_ESM_LOADER`: when the preload registers Node's ESM loader hook (import-in-the-middle),
   * which starts a loader thread (about 45 ms) and routes every later `import` through it.
   * `auto`: only for an ES-module entry whose package.json depends on a library that a bridge must
   * catch as an ES module (lru-cache, keyv, cache-manager); CommonJS libraries are caught without it.
   * @default 'auto'
   */
  esmLoader: 'auto' | 'always' | 'never';
  /**
   * `OTELKIT_PROMETHEUS_TRANSLATION_STRATEGY`: how OpenTelemetry names become Prometheus names (the
   * specification's `translation_strategy`), before the escaping the scraper negotiates.
   * @default 'UnderscoreEscapingWithSuffixes'
   */
  prometheusTranslationStrategy: TranslationStrategy;
  /**
   * `OTELKIT_PROMETHEUS_RESOURCE_LABELS`: resource attributes copied onto every series as labels
   * (the specification's `resource_constant_labels`), e.g. `service.name,deployment.environment.name`.
   * `target_info` keeps all of them either way. @default []
   */
  prometheusResourceLabels: string[];
  /**
   * `OTELKIT_NATIVE_HISTOGRAMS`: duration histograms also keep exponential buckets, served as
   * Prometheus native histograms in the protobuf format (beside the classic buckets). @default true
   */
  nativeHistograms: boolean;
  /** `OTELKIT_NATIVE_HISTOGRAM_SCHEMA`: their resolution, -4..8 (3: buckets ~9 % wide). @default 3 */
  nativeHistogramSchema: number;
  /** `OTELKIT_NATIVE_HISTOGRAM_MAX_BUCKETS`: buckets per series before resolution halves. @default 160 */
  nativeHistogramMaxBuckets: number;
  /** `OTELKIT_NATIVE_HISTOGRAM_ZERO_THRESHOLD`: values at or below it count in the zero bucket. @default 2^-128 */
  nativeHistogramZeroThreshold: number;
  /**
   * `OTEL_METRICS_EXEMPLAR_FILTER`: `trace_based` keeps exemplars of measurements made inside a
   * sampled span (only while spans are exported); `always_off` keeps none. `always_on` is taken as
   * `trace_based` (an exemplar without a trace is no use on `/metrics`). @default 'trace_based'
   */
  exemplarFilter: 'trace_based' | 'always_on' | 'always_off';
  /** `OTELKIT_PROMETHEUS_SCRAPE_TIMEOUT_MS`: a scrape answers within this, even if collection hangs. @default 5000 */
  scrapeTimeoutMs: number;
  /**
   * `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`: how OTLP metric export sends
   * histograms that have no view of their own: `explicit_bucket_histogram`, or
   * `base2_exponential_bucket_histogram` (otelkit's duration histograms then send the exponential
   * buckets they keep for native histograms). @default 'explicit_bucket_histogram'
   */
  otlpMetricsHistogramAggregation: 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';
  /**
   * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: `cumulative`; `delta` (counters, asynchronous
   * counters and histograms as deltas, up-down counters cumulative); `lowmemory` (counters and
   * histograms as deltas, the asynchronous ones cumulative). @default 'cumulative'
   */
  otlpMetricsTemporality: 'cumulative' | 'delta' | 'lowmemory';
  /** `OTEL_METRIC_EXPORT_INTERVAL`: ms between pushes of the OTLP and console metric exporters. @default 60000 */
  metricExportIntervalMs: number;
  /** `OTEL_METRIC_EXPORT_TIMEOUT`: ms a push may take (at most the interval). @default 30000 */
  metricExportTimeoutMs: number;
  /** `OTEL_BSP_SCHEDULE_DELAY`: ms between two span exports of the batch processor. @default 5000 */
  bspScheduleDelayMs: number;
  /** `OTEL_BSP_EXPORT_TIMEOUT`: ms the batch processor waits for one export. @default 30000 */
  bspExportTimeoutMs: number;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: spans the batch processor holds; past it, spans are dropped and counted. @default 2048 */
  bspMaxQueueSize: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans per export (at most the queue size). @default 512 */
  bspMaxExportBatchSize: number;
  /**
   * `OTELKIT_SDK_METRICS`: the SDK's own accounting, the semantic conventions' `otel.sdk.*` metrics
   * (spans started and live, span processor queue and outcomes, exporter items and durations, metric
   * reader collection duration). @default true
   */
  sdkMetrics: boolean;
  /**
   * `OTELKIT_CLUSTER_MODE`: with cluster workers, PM2 instances or worker threads, `aggregate` serves
   * one `/metrics` summing them all (on the primary, or on an elected instance); `per-worker` has each
   * cluster worker listen on `port + its index`. Threads always report through their process.
   * @default 'aggregate'
   */
  clusterMode: 'aggregate' | 'per-worker';
  /** `OTELKIT_CLUSTER_TIMEOUT_MS`: how long a scrape waits for each worker's answer. @default 2000 */
  clusterTimeoutMs: number;
  /** `OTELKIT_CLUSTER_READY_SHARE`: share of the workers that must be ready for the primary to be, 0..1. @default 1 */
  clusterReadyShare: number;
  /**
   * `OTELKIT_LOG_CORRELATION`: pino and winston records written inside a span carry `trace_id`,
   * `span_id` and `trace_flags`. @default true
   */
  logCorrelation: boolean;
};

const DEFAULTS: OtelkitConfig = {
  disabled: false,
  serviceName: undefined,
  resourceAttributes: {},
  tracesExporter: undefined,
  metricsExporters: ['prometheus'],
  otlpTracesEndpoint: undefined,
  otlpMetricsEndpoint: undefined,
  otlpTracesProtocol: 'http/protobuf',
  otlpMetricsProtocol: 'http/protobuf',
  otlpTracesHeaders: {},
  otlpMetricsHeaders: {},
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  prometheusHost: '127.0.0.1',
  prometheusPort: 9464,
  logLevel: 'warn',
  metricsAllow: undefined,
  metricsDeny: [],
  cardinalityLimit: 2000,
  shutdownTimeoutMs: 5000,
  handleSignals: true,
  httpRequestHeaders: [],
  traceResponseHeader: true,
  runtimeMetrics: true,
  esmLoader: 'auto',
  healthCheckTimeoutMs: 2000,
  bridgesDisabled: [],
  prometheusTranslationStrategy: 'UnderscoreEscapingWithSuffixes',
  prometheusResourceLabels: [],
  nativeHistograms: true,
  nativeHistogramSchema: 3,
  nativeHistogramMaxBuckets: 160,
  nativeHistogramZeroThreshold: 2 ** -128,
  exemplarFilter: 'trace_based',
  scrapeTimeoutMs: 5000,
  otlpMetricsHistogramAggregation: 'explicit_bucket_histogram',
  otlpMetricsTemporality: 'cumulative',
  metricExportIntervalMs: 60000,
  metricExportTimeoutMs: 30000,
  bspScheduleDelayMs: 5000,
  bspExportTimeoutMs: 30000,
  bspMaxQueueSize: 2048,
  bspMaxExportBatchSize: 512,
  sdkMetrics: true,
  clusterMode: 'aggregate',
  clusterTimeoutMs: 2000,
  clusterReadyShare: 1,
  logCorrelation: true,
};

/** The built-in defaults, for documentation and tests. */
export function defaultConfig(): OtelkitConfig {
  return structuredClone(DEFAULTS);
}

/** Headers that never reach span attributes, whatever the allowlist says. */
export const NEVER_CAPTURED_HEADERS: readonly string[] = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'];

type Env = Record<string, string | undefined>;

/** A problem found while reading the environment: the variable, what was wrong, what is used instead. */
export type ConfigProblem = { variable: string; message: string };

/**
 * Reads otelkit's configuration from environment variables, standard `OTEL_*` first. A bad value
 * never stops the app: it is reported (one line naming the variable and the default used) and the
 * default applies.
 */
export function configFromEnv(env: Env = process.env): { config: OtelkitConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const reader = new EnvReader(env, problems);
  const config = defaultConfig();

  config.disabled = reader.boolean('OTEL_SDK_DISABLED', false);
  config.serviceName = reader.string('OTEL_SERVICE_NAME');
  config.resourceAttributes = reader.keyValues('OTEL_RESOURCE_ATTRIBUTES');
  config.tracesExporter = reader.oneOf('OTEL_TRACES_EXPORTER', ['otlp', 'console', 'none'] as const, undefined);
  config.metricsExporters = reader.listOf('OTEL_METRICS_EXPORTER', ['prometheus', 'otlp', 'console', 'none'] as const, ['prometheus']);

  const base = reader.url('OTEL_EXPORTER_OTLP_ENDPOINT');
  const joined = (path: string) => (base ? `${base.replace(/\/+$/, '')}${path}` : undefined);
  config.otlpTracesEndpoint = reader.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? joined('/v1/traces');
  config.otlpMetricsEndpoint = reader.url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') ?? joined('/v1/metrics');
  const protocols = ['http/protobuf', 'http/json'] as const;
  const protocol = reader.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', protocols, 'http/protobuf');
  config.otlpTracesProtocol = reader.oneOf('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', protocols, protocol);
  config.otlpMetricsProtocol = reader.oneOf('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', protocols, protocol);
  // Per signal: a tracing backend's API key must not travel to the metrics endpoint, or the reverse.
  const headers = reader.keyValues('OTEL_EXPORTER_OTLP_HEADERS', true);
  config.otlpTracesHeaders = { ...headers, ...reader.keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', true) };
  config.otlpMetricsHeaders = { ...headers, ...reader.keyValues('OTEL_EXPORTER_OTLP_METRICS_HEADERS', true) };

  config.sampler = reader.oneOf(
    'OTEL_TRACES_SAMPLER',
    ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const,
    'parentbased_always_on',
  );
  config.samplerRatio = reader.number('OTEL_TRACES_SAMPLER_ARG', 1, { min: 0, max: 1 });
  config.prometheusHost = reader.string('OTEL_EXPORTER_PROMETHEUS_HOST') ?? DEFAULTS.prometheusHost;
  config.prometheusPort = reader.number('OTEL_EXPORTER_PROMETHEUS_PORT', DEFAULTS.prometheusPort, { min: 0, max: 65535, integer: true });
  config.logLevel = reader.oneOf('OTEL_LOG_LEVEL', ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const, 'warn', true);

  config.metricsAllow = reader.list('OTELKIT_METRICS_ALLOW');
  config.metricsDeny = reader.list('OTELKIT_METRICS_DENY') ?? [];
  config.cardinalityLimit = reader.number('OTELKIT_CARDINALITY_LIMIT', DEFAULTS.cardinalityLimit, { min: 1, integer: true });
  config.shutdownTimeoutMs = reader.number('OTELKIT_SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, { min: 0, integer: true });
  config.handleSignals = reader.boolean('OTELKIT_HANDLE_SIGNALS', true);
  config.httpRequestHeaders = (reader.list('OTELKIT_HTTP_REQUEST_HEADERS') ?? []).map((h) => h.toLowerCase());
  config.traceResponseHeader = reader.boolean('OTELKIT_TRACE_RESPONSE_HEADER', true);
  config.runtimeMetrics = reader.boolean('OTELKIT_RUNTIME_METRICS', true);
  config.esmLoader = reader.oneOf('OTELKIT_ESM_LOADER', ['auto', 'always', 'never'] as const, 'auto');
  config.healthCheckTimeoutMs = reader.number('OTELKIT_HEALTH_CHECK_TIMEOUT_MS', DEFAULTS.healthCheckTimeoutMs, { min: 1, integer: true });
  config.bridgesDisabled = reader.list('OTELKIT_BRIDGES_DISABLED') ?? [];
  config.prometheusTranslationStrategy = reader.oneOf(
    'OTELKIT_PROMETHEUS_TRANSLATION_STRATEGY',
    TRANSLATION_STRATEGIES,
    DEFAULTS.prometheusTranslationStrategy,
    false,
  );
  config.prometheusResourceLabels = reader.list('OTELKIT_PROMETHEUS_RESOURCE_LABELS') ?? [];
  config.nativeHistograms = reader.boolean('OTELKIT_NATIVE_HISTOGRAMS', DEFAULTS.nativeHistograms);
  config.nativeHistogramSchema = reader.number('OTELKIT_NATIVE_HISTOGRAM_SCHEMA', DEFAULTS.nativeHistogramSchema, { min: -4, max: 8, integer: true });
  config.nativeHistogramMaxBuckets = reader.number('OTELKIT_NATIVE_HISTOGRAM_MAX_BUCKETS', DEFAULTS.nativeHistogramMaxBuckets, { min: 2, integer: true });
  config.nativeHistogramZeroThreshold = reader.number('OTELKIT_NATIVE_HISTOGRAM_ZERO_THRESHOLD', DEFAULTS.nativeHistogramZeroThreshold, { min: 0 });
  config.exemplarFilter = reader.oneOf('OTEL_METRICS_EXEMPLAR_FILTER', ['trace_based', 'always_on', 'always_off'] as const, 'trace_based', true);
  config.scrapeTimeoutMs = reader.number('OTELKIT_PROMETHEUS_SCRAPE_TIMEOUT_MS', DEFAULTS.scrapeTimeoutMs, { min: 1, integer: true });
  config.otlpMetricsHistogramAggregation = reader.oneOf(
    'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
    ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'] as const,
    DEFAULTS.otlpMetricsHistogramAggregation,
  );
  config.otlpMetricsTemporality = reader.oneOf(
    'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    ['cumulative', 'delta', 'lowmemory'] as const,
    DEFAULTS.otlpMetricsTemporality,
  );
  config.metricExportIntervalMs = reader.number('OTEL_METRIC_EXPORT_INTERVAL', DEFAULTS.metricExportIntervalMs, { min: 1, integer: true });
  config.metricExportTimeoutMs = reader.number('OTEL_METRIC_EXPORT_TIMEOUT', DEFAULTS.metricExportTimeoutMs, { min: 1, integer: true });
  config.bspScheduleDelayMs = reader.number('OTEL_BSP_SCHEDULE_DELAY', DEFAULTS.bspScheduleDelayMs, { min: 0, integer: true });
  config.bspExportTimeoutMs = reader.number('OTEL_BSP_EXPORT_TIMEOUT', DEFAULTS.bspExportTimeoutMs, { min: 1, integer: true });
  config.bspMaxQueueSize = reader.number('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULTS.bspMaxQueueSize, { min: 1, integer: true });
  config.bspMaxExportBatchSize = reader.number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULTS.bspMaxExportBatchSize, { min: 1, integer: true });
  config.sdkMetrics = reader.boolean('OTELKIT_SDK_METRICS', DEFAULTS.sdkMetrics);
  config.clusterMode = reader.oneOf('OTELKIT_CLUSTER_MODE', ['aggregate', 'per-worker'] as const, DEFAULTS.clusterMode);
  config.clusterTimeoutMs = reader.number('OTELKIT_CLUSTER_TIMEOUT_MS', DEFAULTS.clusterTimeoutMs, { min: 1, integer: true });
  config.clusterReadyShare = reader.number('OTELKIT_CLUSTER_READY_SHARE', DEFAULTS.clusterReadyShare, { min: 0, max: 1 });
  config.logCorrelation = reader.boolean('OTELKIT_LOG_CORRELATION', DEFAULTS.logCorrelation);
  return { config, problems };
}

/** Writes each configuration problem as one diagnostic line. */
export function reportConfigProblems(problems: readonly ConfigProblem[]): void {
  for (const problem of problems) diag.warn(`otelkit: ${problem.variable}: ${problem.message}`);
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: ConfigProblem[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  private bad(variable: string, value: string, expected: string, fallback: unknown, secret = false): void {
    const shown = secret ? 'value (not shown: it may hold credentials)' : `value ${JSON.stringify(value)}`;
    this.problems.push({
      variable,
      message: `invalid ${shown} (expected ${expected}); using ${JSON.stringify(fallback)}`,
    });
  }

  string(name: string): string | undefined {
    return this.raw(name);
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    this.bad(name, value, 'true or false', fallback);
    return fallback;
  }

  number(name: string, fallback: number, limits: { min?: number; max?: number; integer?: boolean } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    const ok =
      Number.isFinite(parsed) &&
      (!limits.integer || Number.isInteger(parsed)) &&
      (limits.min === undefined || parsed >= limits.min) &&
      (limits.max === undefined || parsed <= limits.max);
    if (ok) return parsed;
    const range = `${limits.integer ? 'an integer' : 'a number'}${limits.min !== undefined ? ` >= ${limits.min}` : ''}${limits.max !== undefined ? ` <= ${limits.max}` : ''}`;
    this.bad(name, value, range, fallback);
    return fallback;
  }

  oneOf<T extends string, F extends T | undefined>(name: string, allowed: readonly T[], fallback: F, caseInsensitive = true): T | F {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const normal = caseInsensitive ? value.toLowerCase() : value;
    if ((allowed as readonly string[]).includes(normal)) return normal as T;
    this.bad(name, value, `one of ${allowed.join(', ')}`, fallback ?? 'unset');
    return fallback;
  }

  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  }

  listOf<T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] {
    const items = this.list(name);
    if (items === undefined) return fallback;
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item.toLowerCase()));
    if (unknown.length > 0 || items.length === 0) {
      this.bad(name, this.raw(name) ?? '', `a list of ${allowed.join(', ')}`, fallback.join(','));
      return fallback;
    }
    return items.map((item) => item.toLowerCase() as T);
  }

  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // reported below
    }
    this.bad(name, value, 'an http:// or https:// URL', 'unset');
    return undefined;
  }

  keyValues(name: string, secret = false): Record<string, string> {
    const value = this.raw(name);
    const result: Record<string, string> = {};
    if (value === undefined) return result;
    // One problem per variable, however many pairs are bad.
    let problem: string | undefined;
    for (const pair of value.split(',')) {
      if (pair.trim() === '') continue;
      const at = pair.indexOf('=');
      const key = at > 0 ? pair.slice(0, at).trim() : '';
      if (!key) {
        problem ??= 'key=value pairs separated by commas';
        continue;
      }
      try {
        result[key] = decodeURIComponent(pair.slice(at + 1).trim());
      } catch {
        problem ??= 'percent-encoded values';
      }
    }
    if (problem !== undefined) this.bad(name, value, problem, 'the valid pairs only', secret);
    return result;
  }
}
