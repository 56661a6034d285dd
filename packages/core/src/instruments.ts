import type {
  Counter,
  Gauge,
  Histogram,
  Meter,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import type { InstrumentKind, MetricDefinition } from './catalog/types.js';

/** The OpenTelemetry API instrument type created for each catalog kind. */
export interface InstrumentByKind {
  counter: Counter;
  updowncounter: UpDownCounter;
  histogram: Histogram;
  gauge: Gauge;
  'observable-counter': ObservableCounter;
  'observable-updowncounter': ObservableUpDownCounter;
  'observable-gauge': ObservableGauge;
}

/**
 * Creates the instrument a catalog entry describes on `meter`, with its unit, description and,
 * for histograms, its bucket boundaries as advice (so they hold under any SDK, with or without views).
 *
 * @example
 * const duration = createInstrument(meter, OPERATION_DURATION);
 * duration.record(0.012, { 'operation.name': 'users.find' });
 */
export function createInstrument<K extends InstrumentKind>(
  meter: Meter,
  definition: MetricDefinition<K>,
): InstrumentByKind[K] {
  const options = { unit: definition.unit, description: definition.description };
  const kind: InstrumentKind = definition.kind;
  switch (kind) {
    case 'counter':
      return meter.createCounter(definition.name, options) as InstrumentByKind[K];
    case 'updowncounter':
      return meter.createUpDownCounter(definition.name, options) as InstrumentByKind[K];
    case 'histogram':
      return meter.createHistogram(definition.name, {
        ...options,
        ...(definition.buckets
          ? { advice: { explicitBucketBoundaries: [...definition.buckets] } }
          : {}),
      }) as InstrumentByKind[K];
    case 'gauge':
      return meter.createGauge(definition.name, options) as InstrumentByKind[K];
    case 'observable-counter':
      return meter.createObservableCounter(definition.name, options) as InstrumentByKind[K];
    case 'observable-updowncounter':
      return meter.createObservableUpDownCounter(definition.name, options) as InstrumentByKind[K];
    case 'observable-gauge':
      return meter.createObservableGauge(definition.name, options) as InstrumentByKind[K];
  }
}
