import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, DataPointType, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { POINT_EXTRAS, reportOnce, TimeSlicer, type PointExtras } from '@otelkit/core';
import { DEFAULT_TRANSLATION_STRATEGY, translateMetricName, unitSuffix, type FamilyKind, type TranslationStrategy } from './names.js';

// Values of the SDK's DataPointType enum: the serializer needs the SDK's types only, not its code.
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const EXPONENTIAL_HISTOGRAM = 1 as DataPointType.EXPONENTIAL_HISTOGRAM;
const GAUGE = 2 as DataPointType.GAUGE;
const SUM = 3 as DataPointType.SUM;

/** What decides the model: which metrics, how they are named, which labels every series gets. */
export type ModelOptions = {
  /** Keep only metrics (by OpenTelemetry name) for which this returns true. */
  filter?: (metricName: string) => boolean;
  /** @default 'UnderscoreEscapingWithSuffixes' */
  translationStrategy?: TranslationStrategy;
  /** Resource attributes copied onto every series (`resource_constant_labels`). */
  resourceLabels?: readonly string[];
  /** Leave out `otel_scope_name`/`otel_scope_version` labels. @default false */
  withoutScopeInfo?: boolean;
  /** Leave out `target_info`. @default false */
  withoutTargetInfo?: boolean;
};

/** A number point, or a histogram point, with otelkit's extras (exemplars, native buckets). */
export type ModelPoint = DataPoint<number> | DataPoint<Histogram>;

/** Points of one family that share their constant labels (scope, resource labels). */
export type PointGroup = { constantLabels: Attributes; points: ModelPoint[] };

/** One Prometheus metric family: its translated name (before escaping), type, help and points. */
export type Family = {
  name: string;
  kind: FamilyKind;
  help: string;
  /** The unit suffix the name ends with (for OpenMetrics' `# UNIT`), or ''. */
  unit: string;
  groups: PointGroup[];
};

/** What one collection exposes: the target's resource attributes and the metric families. */
export type ExpositionModel = { target: Attributes | undefined; families: Family[] };

/** The extras of a point of otelkit's bound instruments (undefined for the SDK's). */
export function extrasOf(point: ModelPoint): PointExtras | undefined {
  return (point as { [POINT_EXTRAS]?: PointExtras })[POINT_EXTRAS];
}

function kindOf(metric: MetricData): FamilyKind {
  if (metric.dataPointType === HISTOGRAM) return 'histogram';
  return metric.dataPointType === SUM && metric.isMonotonic ? 'counter' : 'gauge';
}

/** The unit suffix a translated name ends with, for `# UNIT`. */
function unitOf(name: string, kind: FamilyKind, unitSuffix: string): string {
  if (unitSuffix === '') return '';
  const base = kind === 'counter' && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
  return base.endsWith(`_${unitSuffix}`) ? unitSuffix : '';
}

/**
 * Groups a collection into Prometheus metric families (one per translated name, even when several
 * scopes report it), in slices so a large collection never holds the event loop for long.
 * Exponential histograms of the SDK are left out (the text formats cannot carry them; otelkit's own
 * histograms carry native buckets beside their classic ones instead).
 */
export async function buildModel(
  resourceMetrics: ResourceMetrics,
  options: ModelOptions,
  slicer: TimeSlicer,
): Promise<ExpositionModel> {
  const strategy = options.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
  const families = new Map<string, Family>();
  const rejected = new Set<string>();
  const resource = resourceMetrics.resource.attributes;
  const resourceLabels: Attributes = {};
  for (const key of options.resourceLabels ?? []) {
    const value = resource[key];
    if (value !== undefined) resourceLabels[key] = value;
  }
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    const constantLabels: Attributes = { ...resourceLabels };
    if (!options.withoutScopeInfo) {
      constantLabels['otel_scope_name'] = scopeMetrics.scope.name;
      constantLabels['otel_scope_version'] = scopeMetrics.scope.version ?? '';
    }
    for (const metric of scopeMetrics.metrics) {
      if (slicer.due()) await slicer.pause();
      if (options.filter && !options.filter(metric.descriptor.name)) continue;
      if (metric.dataPointType === EXPONENTIAL_HISTOGRAM || metric.dataPoints.length === 0) continue;
      const kind = kindOf(metric);
      const name = translateMetricName(metric.descriptor.name, metric.descriptor.unit, kind, strategy);
      let family = families.get(name);
      if (family === undefined) {
        const suffix = unitSuffix(metric.descriptor.unit, metric.dataPointType === GAUGE || kind === 'gauge');
        // Every family gets HELP (promtool flags families without); an undescribed one names its OTel instrument.
        family = {
          name,
          kind,
          help: metric.descriptor.description || `${metric.descriptor.name} (no description)`,
          unit: unitOf(name, kind, suffix),
          groups: [],
        };
        families.set(name, family);
      } else if (family.kind !== kind) {
        rejected.add(name);
        continue;
      }
      family.groups.push({ constantLabels, points: metric.dataPoints as ModelPoint[] });
    }
  }
  for (const name of rejected) {
    reportOnce(`prometheus.type-conflict.${name}`, `metric family ${name} is reported with two different types; only the first is exposed`);
  }
  return { target: options.withoutTargetInfo ? undefined : resource, families: [...families.values()] };
}
