import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TimeSlicer } from '@otelkit/core';
import { buildModel, type ModelOptions } from './prometheus/model.js';
import { negotiateFormat } from './prometheus/negotiate.js';
import { writeExposition } from './prometheus/exposition.js';

export { unitSuffix } from './prometheus/names.js';

/**
 * Options of {@link serializePrometheus}: which metrics, how names translate (the specification's
 * `translation_strategy`), the resource attributes copied onto every series, scope and target info.
 */
export type PrometheusSerializerOptions = ModelOptions & {
  /**
   * The scraper's `Accept` header: picks the format (protobuf, OpenMetrics 1.0.0, text 1.0.0 or
   * 0.0.4) and escaping scheme as `/metrics` does. @default text 0.0.4
   */
  accept?: string;
};

/**
 * Serializes a collection of OpenTelemetry metrics in a Prometheus exposition format, following
 * the specification's Prometheus compatibility rules (unit and `_total` suffixes, `target_info`,
 * scope labels, label-name collisions merged), with exemplars (OpenMetrics, protobuf) and native
 * histogram buckets (protobuf) of otelkit's bound instruments. Works in slices: a large collection
 * never holds the event loop for more than about 10 ms at a time.
 *
 * @returns the body and the `Content-Type` that says what it is
 */
export async function serializePrometheus(
  resourceMetrics: ResourceMetrics,
  options: PrometheusSerializerOptions = {},
): Promise<{ contentType: string; body: Buffer }> {
  const format = negotiateFormat(options.accept);
  const slicer = new TimeSlicer(10);
  const model = await buildModel(resourceMetrics, options, slicer);
  return { contentType: format.contentType, body: await writeExposition(model, format, options.translationStrategy, slicer) };
}
