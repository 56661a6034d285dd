import type { MetricDefinition } from './types.js';

/**
 * `otelkit.metric.measurements.invalid`: otelkit's own account of measurements it dropped (negative
 * values to counters and histograms, NaN or infinite values to any instrument), from its bound
 * instruments and, under `@otelkit/node`, from instruments of the global API; so nothing is lost silently.
 */
export const INVALID_MEASUREMENTS: MetricDefinition<'counter'> = Object.freeze({
  name: 'otelkit.metric.measurements.invalid',
  kind: 'counter',
  unit: '{measurement}',
  description: 'Measurements dropped by otelkit because the value was negative (counters, histograms), NaN or infinite.',
  attributes: [],
  stability: 'otelkit',
});

/**
 * `otelkit.metric.measurements.dropped`: measurements made through the OpenTelemetry API in the moments
 * before `@otelkit/node` has loaded the metrics SDK, past the 10,000 it holds for them; counted so that
 * even that loss is not silent.
 */
export const DROPPED_MEASUREMENTS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'otelkit.metric.measurements.dropped',
  kind: 'observable-counter',
  unit: '{measurement}',
  description: 'Measurements made through the API while the metrics SDK was loading that found its 10,000-measurement buffer full and were dropped.',
  attributes: [],
  stability: 'otelkit',
});
