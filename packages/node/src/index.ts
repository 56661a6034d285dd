/**
 * @otelkit/node: the otelkit SDK bootstrap. Zero-code: `node --import @otelkit/node/register app.js`;
 * in code: `start()` / `shutdown()`.
 * @packageDocumentation
 */
export {
  addReadinessCheck,
  createHealthHandler,
  createMetricsHandler,
  removeReadinessCheck,
  shutdown,
  start,
  type OtelkitSdk,
  type StartOptions,
} from './sdk.js';
export {
  configFromEnv,
  defaultConfig,
  NEVER_CAPTURED_HEADERS,
  type ConfigProblem,
  type MetricsExporterName,
  type OtelkitConfig,
  type OtlpProtocol,
  type SamplerName,
  type TracesExporterName,
} from './config.js';
export { BUILTIN_MODULE_BRIDGES } from './bridges.js';
export type { CheckReport, HealthReport, ReadinessCheckOptions } from './health.js';
export { FilteringMetricExporter } from './filtering-exporter.js';
export { entryPackage } from './service-identity.js';
export { HEALTH_PATHS, METRICS_PATH, type NodeRequestHandler } from './endpoints.js';
export { normalizeMethod, setHttpRoute } from './http-server.js';
export { serializePrometheus, unitSuffix, type PrometheusSerializerOptions } from './prometheus-serializer.js';
export { TRANSLATION_STRATEGIES, ESCAPING_SCHEMES, type TranslationStrategy, type EscapingScheme } from './prometheus/names.js';
export { redactQuery, redactUrl, REDACTED } from './redact.js';
