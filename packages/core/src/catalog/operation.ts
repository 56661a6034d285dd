import { DURATION_BUCKETS_SECONDS } from '../buckets.js';
import { ATTR } from './attributes.js';
import type { MetricDefinition } from './types.js';

/**
 * `operation.duration`: otelkit's own, filled by the timing helpers for user operations
 * (a DB call, a message, a job). `operation.outcome` is `success` or `error`; failures also
 * carry `error.type`.
 */
export const OPERATION_DURATION: MetricDefinition<'histogram'> = Object.freeze({
  name: 'operation.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Duration of application operations timed with otelkit helpers.',
  attributes: [ATTR.OPERATION_NAME, ATTR.OPERATION_TYPE, ATTR.OPERATION_OUTCOME, ATTR.ERROR_TYPE],
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'otelkit',
});
