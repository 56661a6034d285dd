import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { TimeSlicer } from '@otelkit/core';
import { LabelResolver, type ResolvedLabels } from './labels.js';
import { extrasOf, type ExpositionModel, type Family, type ModelPoint } from './model.js';
import { escapeName, isLegacyLabelName, isLegacyMetricName, type TranslationStrategy } from './names.js';
import type { ExpositionFormat } from './negotiate.js';

/** A number as the text formats write it. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function escapeLabelValue(value: string): string {
  if (!/[\\\n"]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string, quotes: boolean): string {
  const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return quotes ? escaped.replace(/"/g, '\\"') : escaped;
}

/** A name where the text formats write a metric name: bare when legacy, else quoted (UTF-8 names). */
function metadataName(name: string): string {
  return isLegacyMetricName(name) ? name : `"${escapeLabelValue(name)}"`;
}

function labelName(name: string): string {
  return isLegacyLabelName(name) ? name : `"${escapeLabelValue(name)}"`;
}

/**
 * The Prometheus text formats from one collection's model: text 0.0.4 (legacy names only), text
 * 1.0.0 (UTF-8 names quoted when the scraper allows them) and OpenMetrics 1.0.0 (exemplars, `# UNIT`,
 * counters' `_total`, `# EOF`). Written in slices (see {@link TimeSlicer}).
 */
export async function writeText(model: ExpositionModel, format: ExpositionFormat, strategy: TranslationStrategy, slicer: TimeSlicer): Promise<string> {
  const openMetrics = format.name === 'openmetrics';
  const labels = new LabelResolver(strategy, format.escaping);
  const resolved: ResolvedLabels = { names: [], values: [], count: 0 };
  let out = '';

  const sample = (name: string, legacy: boolean, extraName: string | undefined, extraValue: string, value: string): string => {
    let labelText = '';
    for (let i = 0; i < resolved.count; i++) {
      if (labelText !== '') labelText += ',';
      labelText += `${labelName(resolved.names[i]!)}="${escapeLabelValue(resolved.values[i]!)}"`;
    }
    if (extraName !== undefined) labelText += `${labelText === '' ? '' : ','}${extraName}="${extraValue}"`;
    if (legacy) return labelText === '' ? `${name} ${value}` : `${name}{${labelText}} ${value}`;
    return `{"${escapeLabelValue(name)}"${labelText === '' ? '' : ','}${labelText}} ${value}`;
  };

  if (model.target !== undefined) {
    const name = escapeName('target_info', format.escaping);
    labels.resolve(model.target, undefined, undefined, resolved);
    const base = openMetrics ? name.slice(0, -'_info'.length) : name;
    out += `# HELP ${metadataName(base)} Target metadata\n# TYPE ${metadataName(base)} ${openMetrics ? 'info' : 'gauge'}\n`;
    out += sample(name, isLegacyMetricName(name), undefined, '', '1') + '\n';
  }

  for (const family of model.families) {
    const name = escapeName(family.name, format.escaping);
    const legacy = isLegacyMetricName(name);
    // OpenMetrics names a counter family without `_total` and requires it on the sample.
    let metaName = name;
    let sampleName = name;
    if (openMetrics && family.kind === 'counter') {
      if (name.endsWith('_total')) metaName = name.slice(0, -'_total'.length);
      else sampleName = `${name}_total`;
    }
    let block = `# HELP ${metadataName(metaName)} ${escapeHelp(family.help, openMetrics)}\n# TYPE ${metadataName(metaName)} ${family.kind}\n`;
    if (openMetrics && family.unit !== '' && metaName.endsWith(`_${family.unit}`)) block += `# UNIT ${metadataName(metaName)} ${family.unit}\n`;
    for (const group of family.groups) {
      const constants = labels.constants(group.constantLabels);
      for (const point of group.points) {
        if (slicer.due()) await slicer.pause();
        if (family.kind === 'histogram') {
          labels.resolve(point.attributes, constants, 'le', resolved);
          block += histogramLines(point as ModelPoint & { value: Histogram }, name, legacy, openMetrics, sample);
        } else {
          labels.resolve(point.attributes, constants, undefined, resolved);
          let line = sample(sampleName, legacy, undefined, '', formatValue(point.value as number));
          if (openMetrics) {
            const exemplar = extrasOf(point)?.exemplar;
            if (exemplar !== undefined) line += exemplarText(exemplar);
          }
          block += line + '\n';
        }
      }
    }
    out += block;
  }
  if (openMetrics) out += '# EOF\n';
  return out;
}

type SampleWriter = (name: string, legacy: boolean, extraName: string | undefined, extraValue: string, value: string) => string;

function histogramLines(point: ModelPoint & { value: Histogram }, name: string, legacy: boolean, openMetrics: boolean, sample: SampleWriter): string {
  const { boundaries, counts } = point.value.buckets;
  const exemplars = openMetrics ? extrasOf(point)?.bucketExemplars : undefined;
  let lines = '';
  let cumulative = 0;
  for (let i = 0; i < boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    lines += sample(`${name}_bucket`, legacy, 'le', formatValue(boundaries[i]!), String(cumulative));
    const exemplar = exemplars?.[i];
    if (exemplar !== undefined) lines += exemplarText(exemplar);
    lines += '\n';
  }
  lines += sample(`${name}_bucket`, legacy, 'le', '+Inf', String(point.value.count));
  const last = exemplars?.[boundaries.length];
  if (last !== undefined) lines += exemplarText(last);
  lines += '\n';
  lines += sample(`${name}_sum`, legacy, undefined, '', formatValue(point.value.sum ?? 0)) + '\n';
  lines += sample(`${name}_count`, legacy, undefined, '', String(point.value.count)) + '\n';
  return lines;
}

function exemplarText(exemplar: { value: number; timeMs: number; traceId: string; spanId: string }): string {
  return ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${formatValue(exemplar.value)} ${(exemplar.timeMs / 1000).toFixed(3)}`;
}

