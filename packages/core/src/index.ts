/**
 * @otelkit/core: the otelkit metric catalog (names, units, descriptions, attribute keys), view presets,
 * service metrics and timing helpers, on the OpenTelemetry API only. Works under any OTel SDK setup.
 * @packageDocumentation
 */
export { DURATION_BUCKETS_SECONDS } from './buckets.js';
export { ATTR } from './catalog/attributes.js';
export type { InstrumentKind, MetricDefinition, MetricStability } from './catalog/types.js';
export { HTTP_SERVER_ACTIVE_REQUESTS, HTTP_SERVER_REQUEST_DURATION } from './catalog/http.js';
export { PROCESS_UPTIME, SERVICE_STARTS } from './catalog/service.js';
export { OPERATION_DURATION } from './catalog/operation.js';
export { DROPPED_MEASUREMENTS, INVALID_MEASUREMENTS } from './catalog/otelkit.js';
export {
  CIRCUIT_BREAKER_CALL_DURATION,
  CIRCUIT_BREAKER_CALLS,
  CIRCUIT_BREAKER_CONSECUTIVE_FAILURES,
  CIRCUIT_BREAKER_LAST_TRANSITION_TIME,
  CIRCUIT_BREAKER_STATE,
  CIRCUIT_BREAKER_TRANSITIONS,
} from './catalog/circuit-breaker.js';
export {
  CACHE_ENTRIES,
  CACHE_EVICTIONS,
  CACHE_MAX_ENTRIES,
  CACHE_MAX_SIZE,
  CACHE_PUTS,
  CACHE_REQUESTS,
  CACHE_SIZE,
} from './catalog/cache.js';
export {
  DB_CLIENT_CONNECTION_COUNT,
  DB_CLIENT_CONNECTION_MAX,
  DB_CLIENT_CONNECTION_IDLE_MAX,
  DB_CLIENT_CONNECTION_IDLE_MIN,
  DB_CLIENT_CONNECTION_PENDING_REQUESTS,
  DB_CLIENT_CONNECTION_TIMEOUTS,
  DB_CLIENT_CONNECTION_CREATE_TIME,
  DB_CLIENT_CONNECTION_WAIT_TIME,
  DB_CLIENT_CONNECTION_USE_TIME,
  DB_CLIENT_CONNECTION_UTILIZATION,
  HTTP_CLIENT_OPEN_CONNECTIONS,
  HTTP_CLIENT_QUEUED_REQUESTS,
  HTTP_CLIENT_PENDING_REQUESTS,
  HTTP_CLIENT_CONNECTION_UTILIZATION,
} from './catalog/pool.js';
export { METRIC_CATALOG } from './catalog/index.js';
export { createInstrument, type InstrumentByKind } from './instruments.js';
export { bindCounter, bindHistogram, countInvalidMeasurement, type BindOptions, type BoundCounter, type BoundHistogram } from './bound/instruments.js';
export {
  createOtelkitMetricProducer,
  POINT_EXTRAS,
  type NativeHistogramSnapshot,
  type OtelkitMetricProducer,
  type OtelkitMetricProducerOptions,
  type PointExtras,
} from './bound/producer.js';
export type { Exemplar, NativeHistogramSettings } from './bound/store.js';
export { bucketIndex } from './bound/native-buckets.js';
export { TimeSlicer } from './time-slicer.js';
export { getOtelkitMeter, OTELKIT_VERSION } from './meter.js';
export {
  DEFAULT_CARDINALITY_LIMIT,
  cardinalityLimitView,
  dropView,
  durationHistogramView,
  otelkitViews,
  createMetricNameFilter,
  type MetricNameFilterOptions,
  type OtelkitViewOptions,
} from './views.js';
export { globToRegExp, matchesAny } from './glob.js';
export {
  registerServiceMetrics,
  serviceResourceAttributes,
  type ServiceIdentity,
  type ServiceMetricsOptions,
} from './service-metrics.js';
export {
  createOperationTimer,
  errorTypeOf,
  type OperationOutcome,
  type OperationTimer,
  type OperationTimerOptions,
  type StopTimer,
} from './timing.js';
export { timed, type TimedDecorator, type TimedOptions } from './timed.js';
export { contain, describeError, reportOnce, resetReportedProblems } from './diagnostics.js';
export { createHandle, handleWith, noopHandle, type BridgeHandle } from './handle.js';
export { nameClaims, type NameClaims } from './binding/names.js';
export { shadowMethod } from './binding/shadow-method.js';
export { bindAutomatically, noteNewBinding, reuseBinding } from './binding/bind-once.js';
export { holdWeakly, type WeakTarget } from './binding/weak-target.js';
export { constructingSubclass, isReplacement, replaceExports, restoreExports, wrappingFactory } from './binding/module-exports.js';
export { followMeterProvider, perMeter, registerBatch, type BatchInstruments, type BatchRegistration } from './binding/batch-registration.js';
export type { ReadinessCheck, ReadinessResult } from './readiness.js';
export { lazyModuleBridges, type ModuleBridge, type ModuleBridgeDescription } from './module-bridge.js';
