import type { Attributes, Context, Counter, Gauge, Histogram, UpDownCounter } from '@opentelemetry/api';
import { countInvalidMeasurement } from '@otelkit/core';

/*
 * The SDK (sdk-metrics 2.12) drops negative values to counters and histograms but records NaN and
 * infinities, which poison a sum for the life of the process. Instruments taken from otelkit's meter
 * provider check values first: an invalid one (also anything that is not a number) is dropped,
 * counted in otelkit.metric.measurements.invalid and reported once per instrument and kind. The type
 * is checked first: comparing a Symbol with a number throws.
 */

/** A counter that drops negative, NaN and infinite values. */
export function validCounter(name: string, counter: Counter): Counter {
  return {
    add(value: number, attributes?: Attributes, context?: Context) {
      if (typeof value === 'number' && value >= 0 && value !== Infinity) counter.add(value, attributes, context);
      else countInvalidMeasurement(name, value);
    },
  };
}

/** A histogram that drops negative, NaN and infinite values. */
export function validHistogram(name: string, histogram: Histogram): Histogram {
  return {
    record(value: number, attributes?: Attributes, context?: Context) {
      if (typeof value === 'number' && value >= 0 && value !== Infinity) histogram.record(value, attributes, context);
      else countInvalidMeasurement(name, value);
    },
  };
}

/** An up-down counter that drops NaN and infinite values. */
export function validUpDownCounter(name: string, counter: UpDownCounter): UpDownCounter {
  return {
    add(value: number, attributes?: Attributes, context?: Context) {
      if (typeof value === 'number' && value - value === 0) counter.add(value, attributes, context);
      else countInvalidMeasurement(name, value);
    },
  };
}

/** A gauge that drops NaN and infinite values. */
export function validGauge(name: string, gauge: Gauge): Gauge {
  return {
    record(value: number, attributes?: Attributes, context?: Context) {
      if (typeof value === 'number' && value - value === 0) gauge.record(value, attributes, context);
      else countInvalidMeasurement(name, value);
    },
  };
}
