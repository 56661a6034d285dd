import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describeError, reportOnce, TimeSlicer } from '@otelkit/core';
import { buildModel, type ExpositionModel, type ModelOptions } from './model.js';
import { acceptsGzip, negotiateFormat, type ExpositionFormat } from './negotiate.js';
import { writeProtobuf } from './protobuf.js';
import { writeText } from './text.js';
import { DEFAULT_TRANSLATION_STRATEGY, type TranslationStrategy } from './names.js';

const gzip = promisify(gzipCallback);

/** One collection: what the reader returns. */
export type Collection = { resourceMetrics: ResourceMetrics; errors: unknown[] };

/** Options of {@link PrometheusExposition}. */
export type ExpositionOptions = ModelOptions & {
  /** A scrape answers within this even when collection hangs (503 then). @default 5000 */
  timeoutMs?: number;
  /** Longest stretch of serialization work between event-loop turns. @default 10 */
  sliceMs?: number;
};

/** A scrape's answer. */
export type ScrapeResponse = { status: number; contentType: string; body: Buffer; gzip: boolean };

/** Scrapes that arrive while one is collecting share its collection (and, per format, its body). */
class SharedScrape {
  readonly bodies = new Map<string, Promise<Buffer>>();
  constructor(readonly model: Promise<ExpositionModel>) {}
}

/**
 * `/metrics` from a reader's collections: negotiates the format, shares one collection between
 * concurrent scrapes, serializes in slices, gzips when asked, and always answers within the timeout.
 */
export class PrometheusExposition {
  private shared: SharedScrape | undefined;
  private readonly reportedKinds = new Set<string>();
  private readonly timeoutMs: number;
  private readonly sliceMs: number;

  constructor(
    private readonly collect: (timeoutMs: number) => Promise<Collection>,
    private readonly options: ExpositionOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.sliceMs = options.sliceMs ?? 10;
  }

  /** The answer to a scrape with these `Accept` and `Accept-Encoding` headers. Never rejects. */
  async respond(accept: string | undefined, acceptEncoding: string | undefined): Promise<ScrapeResponse> {
    const format = negotiateFormat(accept);
    const compressed = acceptsGzip(acceptEncoding);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeoutMs);
      timer.unref();
    });
    const shared = this.join();
    try {
      const body = await Promise.race([this.bodyFrom(shared, format, compressed), timedOut]);
      if (body === undefined) {
        // Abandon the collection that outlived the deadline: the next scrape starts a fresh one.
        this.release(shared);
        reportOnce('prometheus.timeout', `a /metrics scrape took longer than ${this.timeoutMs} ms and was answered 503`);
        return failure('# metrics collection timed out\n');
      }
      return { status: 200, contentType: format.contentType, body, gzip: compressed };
    } catch (error) {
      reportOnce('metrics.scrape', `a /metrics scrape failed: ${describeError(error)}`);
      return failure('# metrics collection failed\n');
    } finally {
      clearTimeout(timer);
    }
  }

  /** The collection in flight, or a new one (released once its first body is done). */
  private join(): SharedScrape {
    if (this.shared !== undefined) return this.shared;
    const shared = (this.shared = new SharedScrape(this.collectModel()));
    // Later scrapes collect anew once this one's first body is written (see bodyFrom), or it failed.
    shared.model.then(
      () => undefined,
      () => this.release(shared),
    );
    return shared;
  }

  private release(shared: SharedScrape): void {
    if (this.shared === shared) this.shared = undefined;
  }

  private bodyFrom(shared: SharedScrape, format: ExpositionFormat, compressed: boolean): Promise<Buffer> {
    const key = compressed ? `${format.contentType}+gzip` : format.contentType;
    let body = shared.bodies.get(key);
    if (body === undefined) {
      body = shared.model
        .then((model) => writeExposition(model, format, this.options.translationStrategy, new TimeSlicer(this.sliceMs)))
        .then((bytes) => (compressed ? gzip(bytes) : bytes));
      shared.bodies.set(key, body);
      if (shared.bodies.size === 1) {
        const release = (): void => this.release(shared);
        body.then(release, release);
      }
    }
    return body;
  }

  private async collectModel(): Promise<ExpositionModel> {
    // The SDK cuts each observable callback off before the scrape's deadline; a collection that still
    // does not end is abandoned at the deadline, so the next scrape starts a fresh one.
    const callbackTimeout = Math.max(this.timeoutMs - 500, Math.floor(this.timeoutMs * 0.8));
    const { resourceMetrics, errors } = await withDeadline(this.collect(callbackTimeout), this.timeoutMs);
    for (const error of errors) this.reportCollectionError(describeError(error));
    return buildModel(resourceMetrics, this.options, new TimeSlicer(this.sliceMs, 8));
  }

  /** One diagnostic per distinct failure, for the first few kinds; then one for all the rest. */
  private reportCollectionError(text: string): void {
    const kind = text.slice(0, 80);
    if (!this.reportedKinds.has(kind) && this.reportedKinds.size >= MAX_REPORTED_KINDS) {
      reportOnce('prometheus.collect.more', `more metrics failed to collect and are left out of scrapes (not reported one by one): ${text}`);
      return;
    }
    this.reportedKinds.add(kind);
    reportOnce(`prometheus.collect.${kind}`, `a metric failed to collect and is left out of this scrape: ${text}`);
  }
}

/** A model written in a negotiated format (protobuf, or one of the text formats), in slices. */
export function writeExposition(
  model: ExpositionModel,
  format: ExpositionFormat,
  strategy: TranslationStrategy = DEFAULT_TRANSLATION_STRATEGY,
  slicer: TimeSlicer,
): Promise<Buffer> {
  return format.name === 'protobuf' ? writeProtobuf(model, format, strategy, slicer) : writeText(model, format, strategy, slicer);
}

const MAX_REPORTED_KINDS = 20;

/** `promise`, or a rejection once `ms` have passed (the timer never keeps the process alive). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`metrics collection did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function failure(text: string): ScrapeResponse {
  return { status: 503, contentType: 'text/plain; charset=utf-8', body: Buffer.from(text), gzip: false };
}
