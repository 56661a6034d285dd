import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describeError, reportOnce, TimeSlicer } from '@otelkit/core';
import { buildModel, type ExpositionModel, type ModelOptions } from './model.js';
import { acceptsGzip, negotiateFormat, type ExpositionFormat } from './negotiate.js';
import { writeProtobuf } from './protobuf.js';
import { writeText } from './text.js';

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
    try {
      const body = await Promise.race([this.body(format, compressed), timedOut]);
      if (body === undefined) {
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

  /** The serialized (and optionally gzipped) body in `format`, from the shared collection. */
  body(format: ExpositionFormat, compressed: boolean): Promise<Buffer> {
    let shared = this.shared;
    let first = false;
    if (shared === undefined) {
      shared = this.shared = new SharedScrape(this.collectModel());
      first = true;
    }
    const key = compressed ? `${format.contentType}+gzip` : format.contentType;
    let body = shared.bodies.get(key);
    if (body === undefined) {
      body = shared.model.then((model) => this.serialize(model, format)).then((bytes) => (compressed ? gzip(bytes) : bytes));
      shared.bodies.set(key, body);
    }
    if (first) {
      // Later scrapes collect anew once this one has its body.
      const current = shared;
      const release = (): void => {
        if (this.shared === current) this.shared = undefined;
      };
      body.then(release, release);
    }
    return body;
  }

  private async collectModel(): Promise<ExpositionModel> {
    // The SDK bounds each observable callback by this; the scrape's own timeout is the backstop.
    const { resourceMetrics, errors } = await this.collect(Math.max(1, this.timeoutMs - 500));
    for (const error of errors) {
      const text = describeError(error);
      reportOnce(`prometheus.collect.${text.slice(0, 120)}`, `a metric failed to collect and is left out of this scrape: ${text}`);
    }
    return buildModel(resourceMetrics, this.options, new TimeSlicer(this.sliceMs, 8));
  }

  private async serialize(model: ExpositionModel, format: ExpositionFormat): Promise<Buffer> {
    const slicer = new TimeSlicer(this.sliceMs);
    const strategy = this.options.translationStrategy ?? 'UnderscoreEscapingWithSuffixes';
    if (format.name === 'protobuf') return writeProtobuf(model, format, strategy, slicer);
    return writeText(model, format, strategy, slicer);
  }
}

function failure(text: string): ScrapeResponse {
  return { status: 503, contentType: 'text/plain; charset=utf-8', body: Buffer.from(text), gzip: false };
}
