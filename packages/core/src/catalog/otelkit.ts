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
