import { metrics, type Meter } from '@opentelemetry/api';

/** Version of the otelkit packages, reported as the instrumentation scope version. */
export const OTELKIT_VERSION = '0.1.0';

/**
 * The meter otelkit code records through, taken from the global `MeterProvider` at call time,
 * so it works under any OpenTelemetry SDK setup (and is a no-op without one).
 *
 * @param scope instrumentation scope name, e.g. `@otelkit/cache`.
 */
export function getOtelkitMeter(scope = '@otelkit/core'): Meter {
  return metrics.getMeter(scope, OTELKIT_VERSION);
}
