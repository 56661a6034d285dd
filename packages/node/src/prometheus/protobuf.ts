import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { Exemplar, NativeHistogramSnapshot, TimeSlicer } from '@otelkit/core';
import { LabelResolver, type ResolvedLabels } from './labels.js';
import { extrasOf, type ExpositionModel, type ModelPoint } from './model.js';
import { escapeName, type TranslationStrategy } from './names.js';
import type { ExpositionFormat } from './negotiate.js';

/**
 * A protobuf writer for the few messages of `io.prometheus.client` (metrics.proto) that `/metrics`
 * writes: varints, doubles, strings and length-prefixed sub-messages into a growing buffer.
 * Written by hand: the messages are small and fixed, and this is several times faster than a
 * reflection-based encoder on the scrape path (the official .proto decodes it in the tests).
 */
class ProtoWriter {
  private buffer = Buffer.allocUnsafe(256);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  uint(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  /** sint32/sint64 (zigzag). */
  sint(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  double(field: number, value: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  string(field: number, value: string): void {
    this.tag(field, 2);
    const size = Buffer.byteLength(value);
    this.varint(size);
    this.ensure(size);
    this.buffer.write(value, this.length, 'utf8');
    this.length += size;
  }

  /** A sub-message: `write` fills `scratch`, which is then copied in with its length. */
  message(field: number, scratch: ProtoWriter, write: (writer: ProtoWriter) => void): void {
    scratch.length = 0;
    write(scratch);
    this.tag(field, 2);
    this.varint(scratch.length);
    this.ensure(scratch.length);
    scratch.buffer.copy(this.buffer, this.length, 0, scratch.length);
    this.length += scratch.length;
  }

  /** The bytes written, length-prefixed (the `encoding=delimited` framing). */
  delimitedInto(out: Buffer[]): void {
    const prefix = new ProtoWriter();
    prefix.varint(this.length);
    out.push(Buffer.from(prefix.buffer.subarray(0, prefix.length)), Buffer.from(this.buffer.subarray(0, this.length)));
  }
}

// metrics.proto MetricType
const COUNTER = 0;
const GAUGE = 1;
const HISTOGRAM = 4;

/**
 * The Prometheus protobuf format (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
 * encoding=delimited`): length-delimited `MetricFamily` messages. Histograms carry their classic
 * buckets and, for otelkit's duration histograms, native (exponential) buckets beside them; classic
 * buckets and counters carry exemplars. Written in slices (see {@link TimeSlicer}).
 */
export async function writeProtobuf(model: ExpositionModel, format: ExpositionFormat, strategy: TranslationStrategy, slicer: TimeSlicer): Promise<Buffer> {
  const labels = new LabelResolver(strategy, format.escaping);
  const resolved: ResolvedLabels = { names: [], values: [], count: 0 };
  const out: Buffer[] = [];
  const family = new ProtoWriter();
  const metric = new ProtoWriter();
  const inner = new ProtoWriter();
  const leaf = new ProtoWriter();
  const deepest = new ProtoWriter();

  const writeLabels = (writer: ProtoWriter): void => {
    for (let i = 0; i < resolved.count; i++) {
      writer.message(1, leaf, (pair) => {
        pair.string(1, resolved.names[i]!);
        pair.string(2, resolved.values[i]!);
      });
    }
  };

  if (model.target !== undefined) {
    family.length = 0;
    family.string(1, 'target_info');
    family.string(2, 'Target metadata');
    family.uint(3, GAUGE);
    labels.resolve(model.target, undefined, undefined, resolved);
    family.message(4, metric, (m) => {
      writeLabels(m);
      m.message(2, inner, (gauge) => gauge.double(1, 1));
    });
    family.delimitedInto(out);
  }

  for (const source of model.families) {
    family.length = 0;
    family.string(1, escapeName(source.name, format.escaping));
    family.string(2, source.help);
    family.uint(3, source.kind === 'counter' ? COUNTER : source.kind === 'gauge' ? GAUGE : HISTOGRAM);
    for (const group of source.groups) {
      const constants = labels.constants(group.constantLabels);
      for (const point of group.points) {
        if (slicer.due()) await slicer.pause();
        labels.resolve(point.attributes, constants, source.kind === 'histogram' ? 'le' : undefined, resolved);
        family.message(4, metric, (m) => {
          writeLabels(m);
          if (source.kind === 'histogram') {
            m.message(7, inner, (h) => writeHistogram(h, point as ModelPoint & { value: Histogram }, leaf, deepest));
          } else if (source.kind === 'counter') {
            m.message(3, inner, (c) => {
              c.double(1, point.value as number);
              const exemplar = extrasOf(point)?.exemplar;
              if (exemplar !== undefined) c.message(2, leaf, (e) => writeExemplar(e, exemplar, deepest));
            });
          } else {
            m.message(2, inner, (g) => g.double(1, point.value as number));
          }
        });
      }
    }
    family.delimitedInto(out);
  }
  return Buffer.concat(out);
}

/** Scratch for an exemplar's labels and timestamp inside a bucket (the deepest nesting level). */
const exemplarScratch = new ProtoWriter();

function writeExemplar(writer: ProtoWriter, exemplar: Exemplar, scratch: ProtoWriter): void {
  writer.message(1, scratch, (pair) => {
    pair.string(1, 'trace_id');
    pair.string(2, exemplar.traceId);
  });
  writer.message(1, scratch, (pair) => {
    pair.string(1, 'span_id');
    pair.string(2, exemplar.spanId);
  });
  writer.double(2, exemplar.value);
  writer.message(3, scratch, (timestamp) => {
    const seconds = Math.floor(exemplar.timeMs / 1000);
    timestamp.uint(1, seconds);
    timestamp.uint(2, Math.round((exemplar.timeMs - seconds * 1000) * 1e6));
  });
}

function writeHistogram(writer: ProtoWriter, point: ModelPoint & { value: Histogram }, scratch: ProtoWriter, deepest: ProtoWriter): void {
  const { boundaries, counts } = point.value.buckets;
  const extras = extrasOf(point);
  writer.uint(1, point.value.count);
  writer.double(2, point.value.sum ?? 0);
  let cumulative = 0;
  for (let i = 0; i <= boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    const exemplar = extras?.bucketExemplars?.[i];
    writer.message(3, scratch, (bucket) => {
      bucket.uint(1, i === boundaries.length ? point.value.count : cumulative);
      bucket.double(2, i === boundaries.length ? Infinity : boundaries[i]!);
      if (exemplar !== undefined) bucket.message(3, deepest, (e) => writeExemplar(e, exemplar, exemplarScratch));
    });
  }
  if (extras?.native !== undefined) writeNative(writer, extras.native, scratch);
}

/**
 * Native buckets: schema, zero bucket, then the positive buckets as spans (runs of buckets; a gap of
 * more than two empty buckets starts a new span) and count deltas, as metrics.proto defines them.
 */
function writeNative(writer: ProtoWriter, native: NativeHistogramSnapshot, scratch: ProtoWriter): void {
  writer.sint(5, native.schema);
  writer.double(6, native.zeroThreshold);
  writer.uint(7, native.zeroCount);
  const { counts, offset } = native;
  let previousCount = 0;
  let previousEnd: number | undefined; // index after the last span
  let i = 0;
  const deltas: number[] = [];
  while (i < counts.length) {
    if (counts[i] === 0) {
      i++;
      continue;
    }
    // A span from i over buckets, bridging gaps of at most two empty buckets.
    let end = i + 1;
    while (end < counts.length) {
      if (counts[end] !== 0) end++;
      else if ((end + 1 < counts.length && counts[end + 1] !== 0) || (end + 2 < counts.length && counts[end + 2] !== 0)) end++;
      else break;
    }
    const start = offset + i;
    writer.message(12, scratch, (span) => {
      span.sint(1, previousEnd === undefined ? start : start - previousEnd);
      span.uint(2, end - i);
    });
    for (let j = i; j < end; j++) {
      deltas.push(counts[j]! - previousCount);
      previousCount = counts[j]!;
    }
    previousEnd = offset + end;
    i = end;
  }
  for (const delta of deltas) writer.sint(13, delta);
}
