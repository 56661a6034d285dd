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

/** Collects output as strings, handing them over as UTF-8 buffers of about 64 KiB (no giant string to flatten). */
class ChunkedOutput {
  private chunk = '';
  private readonly buffers: Buffer[] = [];

  add(text: string): void {
    this.chunk += text;
    if (this.chunk.length >= 65536) this.flush();
  }

  private flush(): void {
    if (this.chunk === '') return;
    this.buffers.push(Buffer.from(this.chunk));
    this.chunk = '';
  }

  toBuffer(): Buffer {
    this.flush();
    return this.buffers.length === 1 ? this.buffers[0]! : Buffer.concat(this.buffers);
  }
}

/** `name="value"` pairs of resolved labels, comma-separated. */
function labelText(labels: ResolvedLabels): string {
  let text = '';
  for (let i = 0; i < labels.count; i++) {
    if (i > 0) text += ',';
    text += `${labelName(labels.names[i]!)}="${escapeLabelValue(labels.values[i]!)}"`;
  }
  return text;
}

/** A sample line's start: `name{labels` (legacy name) or `{"name",labels` (quoted), to be closed by the caller. */
function sampleStart(name: string, legacy: boolean, labels: string): string {
  if (legacy) return labels === '' ? `${name}{` : `${name}{${labels}`;
  return labels === '' ? `{"${escapeLabelValue(name)}"` : `{"${escapeLabelValue(name)}",${labels}`;
}

/** A whole sample line with no extra label: `name{labels} value` (braces left out when empty). */
function sampleLine(name: string, legacy: boolean, labels: string, value: string): string {
  if (legacy && labels === '') return `${name} ${value}`;
  return `${sampleStart(name, legacy, labels)}} ${value}`;
}

/**
 * The Prometheus text formats from one collection's model: text 0.0.4 (legacy names only), text
 * 1.0.0 (UTF-8 names quoted when the scraper allows them) and OpenMetrics 1.0.0 (exemplars, `# UNIT`,
 * counters' `_total`, `# EOF`). Written in slices (see {@link TimeSlicer}).
 */
export async function writeText(model: ExpositionModel, format: ExpositionFormat, strategy: TranslationStrategy, slicer: TimeSlicer): Promise<Buffer> {
  const openMetrics = format.name === 'openmetrics';
  const labels = new LabelResolver(strategy, format.escaping);
  const resolved: ResolvedLabels = { names: [], values: [], count: 0 };
  const out = new ChunkedOutput();

  if (model.target !== undefined) {
    const name = 'target_info';
    labels.resolve(model.target, undefined, undefined, resolved);
    const base = openMetrics ? 'target' : name;
    out.add(`# HELP ${metadataName(base)} Target metadata\n# TYPE ${metadataName(base)} ${openMetrics ? 'info' : 'gauge'}\n`);
    out.add(sampleLine(name, isLegacyMetricName(name), labelText(resolved), '1') + '\n');
  }

  const leCache = new BucketLabels();
  for (const family of model.families) {
    const name = escapeName(family.name, format.escaping);
    const legacy = isLegacyMetricName(name);
    // OpenMetrics names a counter family without `_total` and requires it on the sample: the suffix
    // is cut from the translated name and added after escaping, never cut from an escaped one.
    let metaName = name;
    let sampleName = name;
    if (openMetrics && family.kind === 'counter') {
      const base = family.name.endsWith('_total') ? family.name.slice(0, -'_total'.length) : family.name;
      metaName = escapeName(base, format.escaping);
      sampleName = `${metaName}_total`;
    }
    out.add(`# HELP ${metadataName(metaName)} ${escapeHelp(family.help, openMetrics)}\n# TYPE ${metadataName(metaName)} ${family.kind}\n`);
    if (openMetrics && family.unit !== '' && metaName.endsWith(`_${family.unit}`)) out.add(`# UNIT ${metadataName(metaName)} ${family.unit}\n`);
    const histogram = family.kind === 'histogram';
    for (const group of family.groups) {
      const constants = labels.constants(group.constantLabels);
      for (const point of group.points) {
        if (slicer.due()) await slicer.pause();
        labels.resolve(point.attributes, constants, histogram ? 'le' : undefined, resolved);
        const text = labelText(resolved);
        if (histogram) {
          out.add(histogramLines(point as ModelPoint & { value: Histogram }, name, legacy, text, openMetrics, leCache));
        } else {
          let line = sampleLine(sampleName, legacy, text, formatValue(point.value as number));
          if (openMetrics) {
            const exemplar = extrasOf(point)?.exemplar;
            if (exemplar !== undefined) line += exemplarText(exemplar);
          }
          out.add(line + '\n');
        }
      }
    }
  }
  if (openMetrics) out.add('# EOF\n');
  return out.toBuffer();
}

/** `le="…"} ` suffixes of a boundaries array, kept while consecutive points share it (otelkit's do). */
class BucketLabels {
  private boundaries: readonly number[] | undefined;
  private suffixes: string[] = [];
  private commaSuffixes: string[] = [];

  of(boundaries: readonly number[], comma: boolean): string[] {
    if (boundaries !== this.boundaries) {
      this.boundaries = boundaries;
      this.suffixes = [...boundaries.map((bound) => `le="${formatValue(bound)}"} `), 'le="+Inf"} '];
      this.commaSuffixes = this.suffixes.map((suffix) => `,${suffix}`);
    }
    return comma ? this.commaSuffixes : this.suffixes;
  }
}

function histogramLines(
  point: ModelPoint & { value: Histogram },
  name: string,
  legacy: boolean,
  labels: string,
  openMetrics: boolean,
  leCache: BucketLabels,
): string {
  const { boundaries, counts } = point.value.buckets;
  const exemplars = openMetrics ? extrasOf(point)?.bucketExemplars : undefined;
  const start = sampleStart(`${name}_bucket`, legacy, labels);
  const le = leCache.of(boundaries, labels !== '' || !legacy);
  let lines = '';
  let cumulative = 0;
  for (let i = 0; i <= boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    lines += `${start}${le[i]}${i === boundaries.length ? point.value.count : cumulative}`;
    const exemplar = exemplars?.[i];
    if (exemplar !== undefined) lines += exemplarText(exemplar);
    lines += '\n';
  }
  lines += sampleLine(`${name}_sum`, legacy, labels, formatValue(point.value.sum ?? 0)) + '\n';
  lines += sampleLine(`${name}_count`, legacy, labels, String(point.value.count)) + '\n';
  return lines;
}

function exemplarText(exemplar: { value: number; timeMs: number; traceId: string; spanId: string }): string {
  return ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${formatValue(exemplar.value)} ${(exemplar.timeMs / 1000).toFixed(3)}`;
}
