import type { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';

// Values of the metrics SDK's enums: core imports the SDK's types only, never its code.
export const DELTA = 0 as AggregationTemporality.DELTA;
export const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
export const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
export const EXPONENTIAL_HISTOGRAM = 1 as DataPointType.EXPONENTIAL_HISTOGRAM;
export const SUM = 3 as DataPointType.SUM;
/** ValueType.DOUBLE of the API. */
export const DOUBLE = 1;
