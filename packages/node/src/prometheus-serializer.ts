import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { DataPoint, DataPointType, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { reportOnce } from '@otelkit/core';

// Values of the SDK's DataPointType enum: the serializer needs the SDK's types only, not its code
// (so importing @otelkit/node does not load the metrics SDK).
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const EXPONENTIAL_HISTOGRAM = 1 as DataPointType.EXPONENTIAL_HISTOGRAM;
const GAUGE = 2 as DataPointType.GAUGE;
const SUM = 3 as DataPointType.SUM;

/**
 * Prometheus text exposition (format 0.0.4) of collected OpenTelemetry metrics, following the
 * OpenTelemetry specification's Prometheus compatibility rules, which the stock
 * `@opentelemetry/exporter-prometheus` serializer does not fully apply:
 * - unit suffixes: `http.server.request.duration` (unit `s`) becomes
 *   `http_server_request_duration_seconds`; `By` gives `_bytes`, `1` on a gauge `_ratio`,
 *   `X/Y` gives `_X_per_Y`, annotations like `{request}` give none;
 * - `_total` on monotonic sums (counters), after the unit suffix;
 * - non-monotonic sums (up-down counters) and gauges as `gauge`;
 * - histograms as `_bucket{le}` (cumulative), `_sum`, `_count`;
 * - resource attributes once, on `target_info`; the instrumentation scope as `otel_scope_name` and
 *   `otel_scope_version` labels;
 * - one `# HELP`/`# TYPE` block per metric family, even when several scopes report the same name.
 */
export type PrometheusSerializerOptions = {
  /** Keep only metrics (by OpenTelemetry name) for which this returns true. */
  filter?: (metricName: string) => boolean;
  /** Leave out `otel_scope_name`/`otel_scope_version` labels. @default false */
  withoutScopeInfo?: boolean;
  /** Leave out `target_info`. @default false */
  withoutTargetInfo?: boolean;
};

const UNIT_NAMES: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tebibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};
const PER_UNIT_NAMES: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** The Prometheus unit suffix for a UCUM unit, or '' when it has none. */
export function unitSuffix(unit: string, isGauge: boolean): string {
  const stripped = unit.replace(/\{[^}]*\}/g, '').trim();
  if (stripped === '') return '';
  if (stripped === '1') return isGauge ? 'ratio' : '';
  const slash = stripped.indexOf('/');
  if (slash >= 0) {
    const over = stripped.slice(0, slash);
    const under = stripped.slice(slash + 1);
    const overName = over === '' || over === '1' ? '' : (UNIT_NAMES[over] ?? sanitizeName(over));
    const underName = PER_UNIT_NAMES[under] ?? sanitizeName(under);
    if (underName === '') return overName;
    return overName === '' ? `per_${underName}` : `${overName}_per_${underName}`;
  }
  return UNIT_NAMES[stripped] ?? sanitizeName(stripped);
}

/** Replaces characters Prometheus metric names cannot hold with `_`, collapsing runs of `_`. */
export function sanitizeName(name: string): string {
  let result = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
  if (/^[0-9]/.test(result)) result = `_${result}`;
  return result;
}

/** Replaces characters Prometheus label names cannot hold with `_`. */
export function sanitizeLabelName(name: string): string {
  let result = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(result)) result = `_${result}`;
  return result;
}

// Attribute keys are few and repeat on every point of every scrape: sanitize each once.
const labelNames = new Map<string, string>();
const MAX_REMEMBERED_LABEL_NAMES = 10_000;

function labelNameOf(key: string): string {
  let name = labelNames.get(key);
  if (name === undefined) {
    name = sanitizeLabelName(key);
    if (labelNames.size < MAX_REMEMBERED_LABEL_NAMES) labelNames.set(key, name);
  }
  return name;
}

/** The Prometheus metric family name of an OpenTelemetry metric. */
export function prometheusName(metric: MetricData): string {
  const isGauge = metric.dataPointType === GAUGE || (metric.dataPointType === SUM && !metric.isMonotonic);
  const isCounter = metric.dataPointType === SUM && metric.isMonotonic;
  let name = sanitizeName(metric.descriptor.name);
  if (isCounter && name.endsWith('_total')) name = name.slice(0, -'_total'.length);
  const suffix = unitSuffix(metric.descriptor.unit, isGauge);
  if (suffix && !name.endsWith(`_${suffix}`)) name = `${name}_${suffix}`;
  if (isCounter) name = `${name}_total`;
  return name;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelValue(value: AttributeValue | undefined): string {
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

const NO_RESERVED: ReadonlySet<string> = new Set();
const HISTOGRAM_RESERVED: ReadonlySet<string> = new Set(['le', 'otel_scope_name', 'otel_scope_version']);
const SCOPED_RESERVED: ReadonlySet<string> = new Set(['otel_scope_name', 'otel_scope_version']);

function hasDuplicate(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    for (let j = 0; j < i; j++) if (names[i] === names[j]) return true;
  }
  return false;
}

/**
 * `a="1",b="2"` for a set of attributes (no braces), keys sanitized, values escaped. Keys that
 * sanitize to the same label name (`a.b` and `a_b`) share one label, their values joined by `;` in
 * key order, as the specification says (a duplicate label would make the whole scrape invalid). An
 * attribute whose label name otelkit writes itself (`le` on a histogram, the scope labels) is left out,
 * with one diagnostic, for the same reason.
 */
function labelPairs(attributes: Attributes, reserved: ReadonlySet<string> = NO_RESERVED): string {
  let keys = Object.keys(attributes);
  let names = keys.map(labelNameOf);
  if (reserved.size > 0 && names.some((name) => reserved.has(name))) {
    const kept = keys.map((_, i) => !reserved.has(names[i]!));
    for (let i = 0; i < keys.length; i++) {
      if (!kept[i]) reportOnce(`prometheus.reserved-label.${names[i]}`, `attribute "${keys[i]}" would collide with otelkit's own "${names[i]}" label and is left out of /metrics`);
    }
    keys = keys.filter((_, i) => kept[i]);
    names = names.filter((_, i) => kept[i]);
  }
  if (hasDuplicate(names)) return mergedLabelPairs(attributes, keys, names);
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const value = attributes[keys[i]!];
    if (value === undefined) continue;
    if (out) out += ',';
    out += `${names[i]}="${escapeLabelValue(labelValue(value))}"`;
  }
  return out;
}

function mergedLabelPairs(attributes: Attributes, keys: string[], names: string[]): string {
  const merged = new Map<string, { key: string; value: string }[]>();
  keys.forEach((key, i) => {
    const value = attributes[key];
    if (value === undefined) return;
    const list = merged.get(names[i]!) ?? [];
    list.push({ key, value: labelValue(value) });
    merged.set(names[i]!, list);
  });
  return [...merged]
    .map(([name, list]) => {
      const value = list.sort((a, b) => (a.key < b.key ? -1 : 1)).map((entry) => entry.value).join(';');
      return `${name}="${escapeLabelValue(value)}"`;
    })
    .join(',');
}

function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function braces(...parts: string[]): string {
  const joined = parts.filter((part) => part !== '').join(',');
  return joined ? `{${joined}}` : '';
}

type Family = { type: 'counter' | 'gauge' | 'histogram'; help: string; lines: string[] };

/** Serializes collected metrics as Prometheus text. */
export function serializePrometheus(resourceMetrics: ResourceMetrics, options: PrometheusSerializerOptions = {}): string {
  const families = new Map<string, Family>();
  const reserved = options.withoutScopeInfo ? NO_RESERVED : SCOPED_RESERVED;
  const histogramReserved: ReadonlySet<string> = options.withoutScopeInfo ? new Set(['le']) : HISTOGRAM_RESERVED;
  const rejected = new Set<string>();
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    const scopeLabels = options.withoutScopeInfo
      ? ''
      : labelPairs({ otel_scope_name: scopeMetrics.scope.name, otel_scope_version: scopeMetrics.scope.version ?? '' });
    for (const metric of scopeMetrics.metrics) {
      if (options.filter && !options.filter(metric.descriptor.name)) continue;
      if (metric.dataPointType === EXPONENTIAL_HISTOGRAM) continue;
      const name = prometheusName(metric);
      const type =
        metric.dataPointType === HISTOGRAM ? 'histogram'
        : metric.dataPointType === SUM && metric.isMonotonic ? 'counter'
        : 'gauge';
      let family = families.get(name);
      if (family === undefined) {
        // Every family gets HELP (promtool flags families without); an undescribed one names its OTel instrument.
        family = { type, help: metric.descriptor.description || `${metric.descriptor.name} (no description)`, lines: [] };
        families.set(name, family);
      } else if (family.type !== type) {
        rejected.add(name);
        continue;
      }
      if (type === 'histogram') {
        writeHistogram(family.lines, name, metric.dataPoints as DataPoint<Histogram>[], scopeLabels, histogramReserved);
      } else {
        for (const point of metric.dataPoints as DataPoint<number>[]) {
          family.lines.push(`${name}${braces(labelPairs(point.attributes, reserved), scopeLabels)} ${formatValue(point.value)}`);
        }
      }
    }
  }

  for (const name of rejected) {
    reportOnce(`prometheus.type-conflict.${name}`, `metric family ${name} is reported with two different types; only the first is exposed`);
  }
  let out = '';
  if (!options.withoutTargetInfo) {
    const resourceLabels = labelPairs(resourceMetrics.resource.attributes);
    out += `# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info${braces(resourceLabels)} 1\n`;
  }
  for (const [name, family] of families) {
    if (family.lines.length === 0) continue;
    out += `# HELP ${name} ${escapeHelp(family.help)}\n`;
    out += `# TYPE ${name} ${family.type}\n`;
    out += family.lines.join('\n') + '\n';
  }
  return out;
}

function writeHistogram(lines: string[], name: string, points: DataPoint<Histogram>[], scopeLabels: string, reserved: ReadonlySet<string>): void {
  for (const point of points) {
    const labels = labelPairs(point.attributes, reserved);
    const { boundaries, counts } = point.value.buckets;
    let cumulative = 0;
    for (let i = 0; i < boundaries.length; i++) {
      cumulative += counts[i] ?? 0;
      lines.push(`${name}_bucket${braces(labels, scopeLabels, `le="${formatValue(boundaries[i] as number)}"`)} ${cumulative}`);
    }
    lines.push(`${name}_bucket${braces(labels, scopeLabels, 'le="+Inf"')} ${point.value.count}`);
    lines.push(`${name}_sum${braces(labels, scopeLabels)} ${formatValue(point.value.sum ?? 0)}`);
    lines.push(`${name}_count${braces(labels, scopeLabels)} ${point.value.count}`);
  }
}
