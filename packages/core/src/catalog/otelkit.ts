import type { MetricDefinition } from './types.js';

/**
 * `otelkit.metric.measurements.invalid`: otelkit's own account of measurements its bound
 * instruments dropped (negative, NaN or infinite values), so nothing is lost silently.
 */
export const INVALID_MEASUREMENTS: MetricDefinition<'counter'> = Object.freeze({
  name: 'otelkit.metric.measurements.invalid',
  kind: 'counter',
  unit: '{measurement}',
  description: 'Measurements dropped by otelkit bound instruments because the value was negative, NaN or infinite.',
  attributes: [],
  stability: 'otelkit',
});
