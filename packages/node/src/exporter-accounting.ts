import type { Attributes, Counter, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import { describeError, OTELKIT_VERSION, reportOnce } from '@otelkit/core';

/** What an OTLP exporter counts: spans, or metric data points. */
export type ExportedItem = 'span' | 'metric_data_point';

/** Options of {@link accountExports}. */
export type ExportAccountingOptions<Request> = {
  item: ExportedItem;
  /** `otel.component.type`, e.g. `otlp_http_span_exporter`. */
  componentType: string;
  /** The endpoint, for `server.address` and `server.port`. */
  url: string | undefined;
  /** How many items a request holds. */
  countItems(request: Request): number;
  meterProvider: MeterProvider;
};

/** The part of an OTLP exporter's delegate that counts exports (the SDK's `ExporterMetrics` contract). */
type ExportMetrics<Request> = { startExport(request: Request): (error: Error | string | undefined) => void };
type ResponseHandler = { handleResponse(response: unknown): void };
type ExporterInternals<Request> = {
  setMetrics?: (metrics: ExportMetrics<Request>) => void;
  _delegate?: { _responseHandler?: ResponseHandler };
};

const componentCounts = new Map<string, number>();

/**
 * Makes an OTLP exporter of the SDK count its exports as the semantic conventions' `otel.sdk.exporter.*`
 * metrics say, partial success included, which the SDK's own accounting (0.223) leaves out: a
 * response with `rejected_spans`/`rejected_data_points` counts those items as failed with
 * `error.type=rejected` and only the rest as exported. Each request is counted once, after its last
 * retry. `otel.sdk.exporter.<item>.inflight` and `otel.sdk.exporter.operation.duration` follow the
 * conventions too.
 *
 * It replaces the exporter's accounting through `setMetrics` (a protected method of the SDK's
 * `OTLPExporterBase`) and wraps the response handler its delegate holds. If either is missing (a
 * different exporter version), the exporter is left as it is and one diagnostic says what is not counted.
 */
export function accountExports<Request>(exporter: object, options: ExportAccountingOptions<Request>): void {
  const internals = exporter as ExporterInternals<Request>;
  const delegate = internals._delegate;
  const handler = delegate?._responseHandler;
  if (typeof internals.setMetrics !== 'function' || delegate === undefined || typeof handler?.handleResponse !== 'function') {
    reportOnce(`exporter-accounting.${options.componentType}`, `${options.componentType}: this exporter version cannot be accounted; otel.sdk.exporter.* metrics are not reported for it`);
    return;
  }
  const accounting = new ExportAccounting<Request>(options);
  try {
    internals.setMetrics(accounting);
    delegate._responseHandler = {
      handleResponse(response: unknown) {
        accounting.noteResponse(response);
        handler.handleResponse(response);
      },
    };
  } catch (error) {
    reportOnce(`exporter-accounting.${options.componentType}`, `${options.componentType}: could not account exports: ${describeError(error)}`);
  }
}

/** A success waiting for its response (which may report rejected items) before it is counted. */
type PendingSuccess = { items: number; startedAt: number; rejected: number };

class ExportAccounting<Request> implements ExportMetrics<Request> {
  private readonly inflight: UpDownCounter;
  private readonly exported: Counter;
  private readonly duration: Histogram;
  private readonly attributes: Attributes;
  private readonly rejectedField: string;
  /** The success finished last: the delegate hands its response to the handler right after (same tick). */
  private lastSuccess: PendingSuccess | undefined;

  constructor(private readonly options: ExportAccountingOptions<Request>) {
    const meter = options.meterProvider.getMeter('@otelkit/node', OTELKIT_VERSION);
    const item = options.item;
    this.inflight = meter.createUpDownCounter(`otel.sdk.exporter.${item}.inflight`, {
      unit: `{${item}}`,
      description: `The number of ${item}s which were passed to the exporter, but that have not been exported yet (neither successful, nor failed).`,
    });
    this.exported = meter.createCounter(`otel.sdk.exporter.${item}.exported`, {
      unit: `{${item}}`,
      description: `The number of ${item}s for which the export has finished, either successful or failed.`,
    });
    this.duration = meter.createHistogram('otel.sdk.exporter.operation.duration', {
      unit: 's',
      description: 'The duration of exporting a batch of telemetry records.',
      advice: { explicitBucketBoundaries: [] },
    });
    const count = componentCounts.get(options.componentType) ?? 0;
    componentCounts.set(options.componentType, count + 1);
    this.attributes = { 'otel.component.type': options.componentType, 'otel.component.name': `${options.componentType}/${count}`, ...serverOf(options.url) };
    this.rejectedField = item === 'span' ? 'rejectedSpans' : 'rejectedDataPoints';
  }

  startExport(request: Request): (error: Error | string | undefined) => void {
    let items = 0;
    try {
      items = this.options.countItems(request);
    } catch (error) {
      reportOnce(`exporter-accounting.count.${this.options.componentType}`, `could not count an export's items: ${describeError(error)}`);
    }
    const startedAt = performance.now();
    this.inflight.add(items, this.attributes);
    return (error) => {
      this.inflight.add(-items, this.attributes);
      if (error !== undefined) {
        const errorType = errorTypeOf(error);
        this.exported.add(items, { ...this.attributes, 'error.type': errorType });
        this.duration.record((performance.now() - startedAt) / 1000, { ...this.attributes, 'error.type': errorType, ...statusOf(error) });
        return;
      }
      const pending: PendingSuccess = { items, startedAt, rejected: 0 };
      this.lastSuccess = pending;
      queueMicrotask(() => this.finishSuccess(pending));
    };
  }

  /** Reads a partial success off the response of the success finished last. */
  noteResponse(response: unknown): void {
    const pending = this.lastSuccess;
    this.lastSuccess = undefined;
    if (pending === undefined || typeof response !== 'object' || response === null) return;
    const partial = (response as { partialSuccess?: Record<string, unknown> }).partialSuccess;
    const rejected = Number(partial?.[this.rejectedField] ?? 0);
    if (Number.isFinite(rejected) && rejected > 0) pending.rejected = Math.min(rejected, pending.items);
  }

  private finishSuccess(pending: PendingSuccess): void {
    if (this.lastSuccess === pending) this.lastSuccess = undefined;
    const accepted = pending.items - pending.rejected;
    if (accepted > 0 || pending.rejected === 0) this.exported.add(accepted, this.attributes);
    if (pending.rejected > 0) this.exported.add(pending.rejected, { ...this.attributes, 'error.type': 'rejected' });
    this.duration.record((performance.now() - pending.startedAt) / 1000, this.attributes);
  }
}

/** `error.type` of a failed export: the SDK's cause string, the HTTP status, the network error code, else the error's name. */
function errorTypeOf(error: Error | string): string {
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number' || (typeof code === 'string' && code !== '')) return String(code);
  if (error.message === 'Request timed out') return 'timeout';
  return error.name || 'export_failed';
}

function statusOf(error: Error | string): Attributes {
  const code = typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? { 'http.response.status_code': code } : {};
}

function serverOf(url: string | undefined): Attributes {
  if (url === undefined) return {};
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return { 'server.address': parsed.hostname, 'server.port': port };
  } catch {
    return {};
  }
}
