import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { MeterProvider, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../../core/test/metric-reader.js';
import { BasicTracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SelfMetricsMeterProvider } from '../src/self-metrics.js';
import { SpanBatcher } from '../src/span-batcher.js';
import { eventually, freePort, request, startApp, startOtlpReceiver, type RunningApp } from './support.js';


function selfMetrics(): { provider: SelfMetricsMeterProvider; reader: TestReader } {
  const reader = new TestReader();
  return { provider: new SelfMetricsMeterProvider(new MeterProvider({ readers: [reader] })), reader };
}

const points = (metrics: MetricData[], name: string) => (metrics.find((m) => m.descriptor.name === name) as SumMetricData | undefined)?.dataPoints ?? [];

describe('SelfMetricsMeterProvider', () => {
  it('counts counters and up-down counters per attribute set (equal sets from different objects are one) and reports them as asynchronous sums', async () => {
    const { provider, reader } = selfMetrics();
    const meter = provider.getMeter('@opentelemetry/sdk-trace');
    const started = meter.createCounter('otel.sdk.span.started', { unit: '{span}', description: 'spans' });
    const live = meter.createUpDownCounter('otel.sdk.span.live', { unit: '{span}' });
    for (let i = 0; i < 3; i++) started.add(1, { 'otel.span.sampling_result': 'RECORD_AND_SAMPLE' });
    started.add(1, { 'otel.span.sampling_result': 'DROP' });
    started.add(-5, { 'otel.span.sampling_result': 'DROP' });
    started.add(NaN, { 'otel.span.sampling_result': 'DROP' });
    live.add(2, { a: 'x' });
    live.add(-1, { a: 'x' });
    const metrics = await reader.metrics();
    const startedPoints = points(metrics, 'otel.sdk.span.started');
    expect(startedPoints.map((p) => [p.attributes['otel.span.sampling_result'], p.value]).sort()).toEqual([
      ['DROP', 1],
      ['RECORD_AND_SAMPLE', 3],
    ]);
    const descriptor = metrics.find((m) => m.descriptor.name === 'otel.sdk.span.started')!.descriptor;
    expect(descriptor.unit).toBe('{span}');
    expect(descriptor.description).toBe('spans');
    expect((metrics.find((m) => m.descriptor.name === 'otel.sdk.span.started') as SumMetricData).isMonotonic).toBe(true);
    expect(points(metrics, 'otel.sdk.span.live')[0]!.value).toBe(1);
    expect((metrics.find((m) => m.descriptor.name === 'otel.sdk.span.live') as SumMetricData).isMonotonic).toBe(false);
  });

  it('a second instrument of the same name (a second SDK component) shares the count; past 200 attribute sets, the overflow set', async () => {
    const { provider, reader } = selfMetrics();
    const meter = provider.getMeter('@opentelemetry/sdk-trace');
    const first = meter.createCounter('otel.sdk.processor.span.processed');
    const second = meter.createCounter('otel.sdk.processor.span.processed');
    for (let i = 0; i < 250; i++) first.add(1, { 'otel.component.name': `c/${i}` });
    second.add(1, { 'otel.component.name': 'c/0' });
    const processed = points(await reader.metrics(), 'otel.sdk.processor.span.processed');
    expect(processed).toHaveLength(201);
    expect(processed.find((p) => p.attributes['otel.component.name'] === 'c/0')!.value).toBe(2);
    expect(processed.find((p) => p.attributes['otel.metric.overflow'] === true)!.value).toBe(50);
    expect(processed.reduce((sum, p) => sum + (p.value as number), 0)).toBe(251);
  });
});

/** An exporter whose exports finish when the test says, failing or not; it records how many ran at once. */
class ControlledExporter implements SpanExporter {
  running = 0;
  maxRunning = 0;
  exported = 0;
  private readonly pending: Array<(result: ExportResult) => void> = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.pending.push((result) => {
      this.running--;
      if (result.code === ExportResultCode.SUCCESS) this.exported += spans.length;
      done(result);
    });
  }
  finishNext(result: ExportResult): boolean {
    const next = this.pending.shift();
    next?.(result);
    return next !== undefined;
  }
  async shutdown(): Promise<void> {}
}

function spans(provider: BasicTracerProvider, count: number): void {
  const tracer = provider.getTracer('test');
  for (let i = 0; i < count; i++) tracer.startSpan('s').end();
}

describe('SpanBatcher', () => {
  it('runs one export at a time, also after failed exports (the SDK processor ran one more per failure)', async () => {
    const { provider: self, reader } = selfMetrics();
    const exporter = new ControlledExporter();
    const batcher = new SpanBatcher(exporter, { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMs: 60_000, exportTimeoutMs: 60_000, selfMetrics: self });
    const tracer = new BasicTracerProvider({ spanProcessors: [batcher] });
    const failed: ExportResult = { code: ExportResultCode.FAILED, error: new Error('collector down') };
    for (let round = 0; round < 5; round++) {
      spans(tracer, 25);
      await eventually(() => (exporter.running === 1 ? true : undefined));
      expect(exporter.finishNext(failed)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(exporter.maxRunning).toBe(1);
    // Drain the rest successfully.
    const flushed = batcher.forceFlush();
    while (!(await Promise.race([flushed.then(() => true), new Promise<false>((resolve) => setImmediate(() => resolve(false)))]))) {
      exporter.finishNext({ code: ExportResultCode.SUCCESS });
    }
    expect(exporter.maxRunning).toBe(1);
    const metrics = await reader.metrics();
    const processed = points(metrics, 'otel.sdk.processor.span.processed');
    const byError = Object.fromEntries(processed.map((p) => [String(p.attributes['error.type'] ?? 'none'), p.value]));
    // 125 spans: 5 failed batches of 10 (error.type is the error's name), the remaining 75 exported.
    expect(byError).toEqual({ Error: 50, none: 75 });
    expect(exporter.exported).toBe(75);
    expect(points(metrics, 'otel.sdk.processor.span.queue.size')[0]!.value).toBe(0);
    expect(points(metrics, 'otel.sdk.processor.span.queue.capacity')[0]!.value).toBe(100);
  });

  it('drops (and counts) spans that find the queue full; an export past its timeout counts as failed with error.type=timeout', async () => {
    const { provider: self, reader } = selfMetrics();
    const exporter = new ControlledExporter();
    const batcher = new SpanBatcher(exporter, { maxQueueSize: 20, maxExportBatchSize: 20, scheduledDelayMs: 60_000, exportTimeoutMs: 50, selfMetrics: self });
    const tracer = new BasicTracerProvider({ spanProcessors: [batcher] });
    spans(tracer, 20); // a full batch: its export starts and never finishes
    spans(tracer, 25); // 20 queued, 5 dropped
    const countOf = async (type: string) =>
      points(await reader.metrics(), 'otel.sdk.processor.span.processed').find((p) => p.attributes['error.type'] === type)?.value;
    expect(await countOf('queue_full')).toBe(5);
    await eventually(async () => ((await countOf('timeout')) === 20 ? true : undefined));
    // The next batch went out after the timeout, still one export waiting on the exporter's answer at a time.
    await eventually(() => (exporter.running === 2 ? true : undefined));
    expect(exporter.maxRunning).toBe(2);
  });
});

/** An exporter that succeeds at once; `onExport` runs first (e.g. to end more spans meanwhile). */
class ImmediateExporter implements SpanExporter {
  exports = 0;
  exported = 0;
  onExport: () => void = () => undefined;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exports++;
    this.exported += spans.length;
    this.onExport();
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

describe('SpanBatcher flush and shutdown', () => {
  it('forceFlush exports what was queued when called, even while spans keep ending', async () => {
    const exporter = new ImmediateExporter();
    const batcher = new SpanBatcher(exporter, { maxQueueSize: 1000, maxExportBatchSize: 10, scheduledDelayMs: 60_000, exportTimeoutMs: 60_000 });
    const tracer = new BasicTracerProvider({ spanProcessors: [batcher] });
    spans(tracer, 25);
    // The first 50 exports each end 10 more spans (a full batch, exported at once as usual): a flush
    // that chased the queue would only end with them.
    exporter.onExport = () => {
      if (exporter.exports <= 50) spans(tracer, 10);
    };
    await batcher.forceFlush();
    expect(exporter.exported).toBeGreaterThanOrEqual(25);
    expect(exporter.exports).toBeLessThan(10);
  });

  it('shutdown leaves no timer behind; spans that end after it are counted as dropped (error.type=shutdown)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { provider: self, reader } = selfMetrics();
      const exporter = new ImmediateExporter();
      const batcher = new SpanBatcher(exporter, { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMs: 1000, exportTimeoutMs: 30_000, selfMetrics: self });
      const tracer = new BasicTracerProvider({ spanProcessors: [batcher] });
      spans(tracer, 15);
      await Promise.all([batcher.shutdown(), batcher.shutdown()]);
      expect(vi.getTimerCount()).toBe(0);
      spans(tracer, 3);
      expect(exporter.exported).toBe(15);
      const processed = points(await reader.metrics(), 'otel.sdk.processor.span.processed');
      expect(Object.fromEntries(processed.map((p) => [String(p.attributes['error.type'] ?? 'none'), p.value]))).toEqual({ none: 15, shutdown: 3 });
      expect(points(await reader.metrics(), 'otel.sdk.processor.span.queue.capacity')[0]!.value).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('otel.sdk.* on /metrics', () => {
  let app: RunningApp | undefined;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;
  afterEach(async () => {
    await app?.stop();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  for (const setting of [{}, { OTELKIT_METRICS_DENY: 'otel.sdk.*' }, { OTELKIT_SDK_METRICS: 'false' }] as Array<Record<string, string>>) {
    const on = Object.keys(setting).length === 0;
    it(`${on ? 'are reported' : `are left out with ${Object.entries(setting)[0]!.join('=')}`} (spans exported)`, async () => {
      receiver = await startOtlpReceiver();
      const metricsPort = await freePort();
      app = await startApp('esm-app.mjs', {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
        OTEL_BSP_SCHEDULE_DELAY: '50',
        ...setting,
      });
      for (let i = 0; i < 5; i++) await request(`http://127.0.0.1:${app.port}/items/${i}`);
      await eventually(() => (receiver!.spans.length >= 5 ? true : undefined));
      // A second scrape: the reader's collection duration is recorded after its first collection.
      await request(`http://127.0.0.1:${metricsPort}/metrics`);
      const text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
      const names = ['otel_sdk_span_started_total', 'otel_sdk_span_live', 'otel_sdk_processor_span_processed_total', 'otel_sdk_processor_span_queue_size', 'otel_sdk_processor_span_queue_capacity', 'otel_sdk_exporter_span_exported_total', 'otel_sdk_exporter_span_inflight', 'otel_sdk_exporter_operation_duration_seconds_count', 'otel_sdk_metric_reader_collection_duration_seconds_count'];
      for (const name of names) {
        if (on) expect(text, name).toMatch(new RegExp(`^${name}\\{`, 'm'));
        else expect(text, name).not.toContain(name);
      }
      if (on) {
        expect(text).toMatch(/^otel_sdk_span_started_total\{[^}]*otel_span_sampling_result="RECORD_AND_SAMPLE"[^}]*\} 5$/m);
        expect(text).toMatch(/^otel_sdk_exporter_span_exported_total\{[^}]*otel_component_type="otlp_http_span_exporter"[^}]*\} 5$/m);
      }
    });
  }
});
