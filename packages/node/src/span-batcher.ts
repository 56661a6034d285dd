import { context, TraceFlags, type Attributes, type Counter, type MeterProvider, type UpDownCounter } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describeError, OTELKIT_VERSION, reportOnce } from '@otelkit/core';

/** Settings of {@link SpanBatcher}: the `OTEL_BSP_*` variables. */
export type SpanBatcherOptions = {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
  /** Where `otel.sdk.processor.span.*` go; none when self-metrics are off. */
  selfMetrics?: MeterProvider;
};

const COMPONENT_TYPE = 'batching_span_processor';
let instances = 0;

/**
 * The batch span processor: ended, sampled spans wait in a bounded queue and leave in batches, one
 * export at a time. It replaces sdk-trace-base's `BatchSpanProcessor` (2.12), which, after an export
 * fails, clears its "exporting" flag once more while the next export already runs: each failure lets
 * one more export run at once, so against a slow or black-holed collector the exports in flight, their
 * sockets and the spans held by them grow with every timeout. Here:
 * - at most one export is waiting for the exporter (or for `exportTimeoutMs`, after which it counts as
 *   failed with `error.type=timeout` and the next may start);
 * - a span that finds the queue full is dropped and counted (`error.type=queue_full`), never queued;
 *   so is one that ends after `shutdown()` (`error.type=shutdown`);
 * - every span is counted once in `otel.sdk.processor.span.processed`: without `error.type` when
 *   its export succeeded, else with the cause; `otel.sdk.processor.span.queue.size` and
 *   `.queue.capacity` report the queue. So started = processed + queued + in the export + live.
 * The timer is unref'd: a process with nothing else to do exits; `forceFlush`/`shutdown` export the rest.
 */
export class SpanBatcher implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private exporting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Set by the first `shutdown()`: later spans are counted as dropped (`error.type=shutdown`). */
  private closing: Promise<void> | undefined;
  private readonly processed: Counter | undefined;
  private readonly capacity: UpDownCounter | undefined;
  private readonly attributes: Attributes;
  private readonly droppedAttributes: Attributes;
  private readonly afterShutdownAttributes: Attributes;
  private readonly batchSize: number;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly options: SpanBatcherOptions,
  ) {
    this.batchSize = Math.min(options.maxExportBatchSize, options.maxQueueSize);
    if (options.maxExportBatchSize > options.maxQueueSize) {
      reportOnce('bsp.batch-size', `OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${options.maxExportBatchSize}) is larger than OTEL_BSP_MAX_QUEUE_SIZE; using ${options.maxQueueSize}`);
    }
    this.attributes = { 'otel.component.type': COMPONENT_TYPE, 'otel.component.name': `${COMPONENT_TYPE}/${instances++}` };
    this.droppedAttributes = { ...this.attributes, 'error.type': 'queue_full' };
    this.afterShutdownAttributes = { ...this.attributes, 'error.type': 'shutdown' };
    if (options.selfMetrics) {
      const meter = options.selfMetrics.getMeter('@otelkit/node', OTELKIT_VERSION);
      this.processed = meter.createCounter('otel.sdk.processor.span.processed', {
        unit: '{span}',
        description: 'The number of spans for which the processing has finished, either successful or failed.',
      });
      this.capacity = meter.createUpDownCounter('otel.sdk.processor.span.queue.capacity', {
        unit: '{span}',
        description: 'The maximum number of spans the queue of a given instance of an SDK span processor can hold.',
      });
      this.capacity.add(options.maxQueueSize, this.attributes);
      meter
        .createObservableUpDownCounter('otel.sdk.processor.span.queue.size', {
          unit: '{span}',
          description: 'The number of spans in the queue of a given instance of an SDK span processor.',
        })
        .addCallback((result) => result.observe(this.queue.length, this.attributes));
    }
  }

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.closing) {
      this.processed?.add(1, this.afterShutdownAttributes);
      return;
    }
    if (this.queue.length >= this.options.maxQueueSize) {
      this.processed?.add(1, this.droppedAttributes);
      reportOnce('bsp.queue-full', 'the span queue is full (OTEL_BSP_MAX_QUEUE_SIZE): spans are dropped, counted in otel.sdk.processor.span.processed{error.type="queue_full"}');
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.batchSize) this.exportSoon(0);
    else this.exportSoon(this.options.scheduledDelayMs);
  }

  /**
   * Exports the spans queued when it is called, batch after batch (spans that end meanwhile wait for
   * their turn as usual), then flushes the exporter. Never rejects.
   */
  async forceFlush(): Promise<void> {
    this.clearTimer();
    const batches = Math.ceil(this.queue.length / this.batchSize);
    let last = this.exporting;
    for (let i = 0; i < batches; i++) last = this.exportNext();
    await last;
    try {
      await this.exporter.forceFlush?.();
    } catch (error) {
      reportOnce('bsp.flush', `span exporter flush failed: ${describeError(error)}`);
    }
  }

  /** Exports what is queued, then shuts the exporter down; spans that end after this is called are counted as dropped. */
  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    await this.forceFlush();
    this.clearTimer();
    this.capacity?.add(-this.options.maxQueueSize, this.attributes);
    try {
      await this.exporter.shutdown();
    } catch (error) {
      reportOnce('bsp.shutdown', `span exporter shutdown failed: ${describeError(error)}`);
    }
  }

  /** Starts the next export after `delayMs` (0: as soon as the current one is done). */
  private exportSoon(delayMs: number): void {
    if (this.exporting) return;
    if (delayMs === 0) {
      this.clearTimer();
      void this.exportNext();
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.exportNext();
    }, delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Exports one batch (after the export in progress, if any). */
  private exportNext(): Promise<void> {
    const previous = this.exporting;
    // With nothing in progress the batch leaves the queue now, so the queue has room at once; the
    // exporter is called a microtask later, once `exporting` is set, so a span it ends cannot start
    // a second export from inside the first.
    const batch = previous === undefined ? this.queue.splice(0, this.batchSize) : undefined;
    const next = (previous ?? Promise.resolve())
      .then(() => this.exportBatch(batch ?? this.queue.splice(0, this.batchSize)))
      .catch((error: unknown) => {
        reportOnce('bsp.export', `span export failed: ${describeError(error)}`);
      });
    this.exporting = next;
    void next.finally(() => {
      if (this.exporting !== next) return;
      this.exporting = undefined;
      // Shutting down: close() exports the rest; no timer may outlive it.
      if (this.closing) return;
      if (this.queue.length >= this.batchSize) this.exportSoon(0);
      else if (this.queue.length > 0) this.exportSoon(this.options.scheduledDelayMs);
    });
    return next;
  }

  private exportBatch(batch: ReadableSpan[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (errorType: string | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (errorType === undefined) this.processed?.add(batch.length, this.attributes);
        else {
          this.processed?.add(batch.length, { ...this.attributes, 'error.type': errorType });
          reportOnce('bsp.export-failed', `spans could not be exported (${errorType}); they are counted in otel.sdk.processor.span.processed by error.type`);
        }
        resolve();
      };
      const deadline = setTimeout(() => {
        reportOnce('bsp.timeout', `a span export did not finish within OTEL_BSP_EXPORT_TIMEOUT (${this.options.exportTimeoutMs} ms); its spans count as failed`);
        finish('timeout');
      }, this.options.exportTimeoutMs);
      deadline.unref();
      const send = (): void => {
        // Timed out while resource attributes were pending: counted as failed, so never sent.
        if (settled) return;
        // The exporter's own HTTP calls must not make spans of their own.
        context.with(suppressTracing(context.active()), () => {
          try {
            this.exporter.export(batch, (result: ExportResult) =>
              finish(result.code === ExportResultCode.SUCCESS ? undefined : (result.error?.name ?? 'export_failed')),
            );
          } catch (error) {
            reportOnce('bsp.export', `span export threw: ${describeError(error)}`);
            finish(error instanceof Error ? error.name : 'export_failed');
          }
        });
      };
      const pending = batch.filter((span) => span.resource.asyncAttributesPending).map((span) => span.resource.waitForAsyncAttributes?.());
      if (pending.length === 0) send();
      else
        Promise.all(pending).then(send, (error: unknown) => {
          reportOnce('bsp.resource', `resource attributes failed: ${describeError(error)}`);
          send();
        });
    });
  }
}
