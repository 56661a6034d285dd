import { spawnSync } from 'node:child_process';
import protobuf from 'protobufjs';

/**
 * Independent parsers for the Prometheus exposition formats, for tests: the Python
 * `prometheus_client` OpenMetrics parser (Debian's python3-prometheus-client) and the official
 * `io.prometheus.client` metrics.proto (Debian's golang-github-prometheus-client-model-dev), decoded
 * with protobufjs. promtool (text) is in promtool.ts.
 */

const PYTHON = '/usr/bin/python3';
const OPENMETRICS_SCRIPT = `
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
def num(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else str(v)
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    samples = []
    for s in family.samples:
        ex = None
        if s.exemplar is not None:
            ex = {'labels': s.exemplar.labels, 'value': num(s.exemplar.value), 'timestamp': float(s.exemplar.timestamp)}
        samples.append({'name': s.name, 'labels': s.labels, 'value': num(s.value), 'exemplar': ex})
    out.append({'name': family.name, 'type': family.type, 'unit': family.unit, 'help': family.documentation, 'samples': samples})
print(json.dumps(out))
`;

export type OpenMetricsSample = {
  name: string;
  labels: Record<string, string>;
  value: number | string;
  exemplar: { labels: Record<string, string>; value: number | string; timestamp: number } | null;
};
export type OpenMetricsFamily = { name: string; type: string; unit: string; help: string; samples: OpenMetricsSample[] };

/** Parses OpenMetrics text with prometheus_client's parser; throws with the parser's message if it rejects it. */
export function parseOpenMetrics(text: string): OpenMetricsFamily[] {
  const result = spawnSync(PYTHON, ['-c', OPENMETRICS_SCRIPT], { input: text, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.error) throw new Error(`python3-prometheus-client is needed (apt-get install -y python3-prometheus-client): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`OpenMetrics parser rejected the exposition: ${result.stderr.trim().split('\n').pop()}`);
  return JSON.parse(result.stdout) as OpenMetricsFamily[];
}

/** Where Debian's golang-github-prometheus-client-model-dev puts the official metrics.proto. */
export const METRICS_PROTO = '/usr/share/gocode/src/github.com/prometheus/client_model/io/prometheus/client/metrics.proto';

let metricFamilyType: protobuf.Type | undefined;

export type DecodedLabel = { name: string; value: string };
export type DecodedExemplar = { label: DecodedLabel[]; value: number; timestamp?: { seconds: number; nanos: number } };
export type DecodedHistogram = {
  sampleCount: number;
  sampleSum: number;
  bucket: Array<{ cumulativeCount: number; upperBound: number; exemplar?: DecodedExemplar }>;
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  positiveSpan?: Array<{ offset?: number; length: number }>;
  positiveDelta?: number[];
};
export type DecodedMetric = {
  label: DecodedLabel[];
  counter?: { value: number; exemplar?: DecodedExemplar };
  gauge?: { value: number };
  histogram?: DecodedHistogram;
};
export type DecodedFamily = { name: string; help: string; type: string; metric: DecodedMetric[] };

/** Decodes a length-delimited stream of `io.prometheus.client.MetricFamily` with the official proto. */
export function decodeMetricFamilies(body: Uint8Array): DecodedFamily[] {
  metricFamilyType ??= protobuf.loadSync(METRICS_PROTO).lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(body);
  const families: DecodedFamily[] = [];
  while (reader.pos < reader.len) {
    const message = metricFamilyType.decodeDelimited(reader);
    families.push(metricFamilyType.toObject(message, { longs: Number, enums: String, defaults: false, arrays: true }) as DecodedFamily);
  }
  return families;
}

/** A native histogram's absolute bucket counts by index, from its spans and deltas. */
export function nativeBuckets(histogram: DecodedHistogram): Map<number, number> {
  const buckets = new Map<number, number>();
  let index = 0;
  let count = 0;
  let delta = 0;
  for (const span of histogram.positiveSpan ?? []) {
    index += span.offset ?? 0; // the first span's offset is its start, later ones the gap after the previous span
    for (let i = 0; i < span.length; i++) {
      count += histogram.positiveDelta![delta++]!;
      buckets.set(index, count);
      index++;
    }
  }
  return buckets;
}
