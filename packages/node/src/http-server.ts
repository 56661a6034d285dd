import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { context, trace, type Attributes, type Span, type ObservableResult } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { contain, createInstrument, getOtelkitMeter, HTTP_SERVER_ACTIVE_REQUESTS, reportOnce } from '@otelkit/core';
import { NEVER_CAPTURED_HEADERS } from './config.js';
import { isOtelkitPath } from './endpoints.js';
import { redactQuery, redactUrl } from './redact.js';

/** Methods the semantic conventions know; anything else is reported as `_OTHER`. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
const OTHER = '_OTHER';

/** The `http.request.method` value of a request method: known methods as they are, else `_OTHER`. */
export function normalizeMethod(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : OTHER;
}

/**
 * Sets the low-cardinality route template of the current request (`/users/:id`) for
 * `http.route` on the server span and on `http.server.request.duration`, for apps whose framework has
 * no instrumentation that does it. Call it from the request handler; outside one it does nothing.
 */
export function setHttpRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
  trace.getActiveSpan()?.setAttribute('http.route', route);
}

/**
 * `http.server.active_requests`, kept as plain numbers per (method, scheme) and reported at
 * collection time: the request path pays two integer updates, no attribute hashing.
 */
export class ActiveRequests {
  // By scheme, then method: no key string is built per request, and each entry's attributes are built once.
  private readonly counts = { http: new Map<string, ActiveEntry>(), https: new Map<string, ActiveEntry>() };
  private readonly observe = contain('http.server.active_requests', (result: ObservableResult) => {
    for (const byMethod of [this.counts.http, this.counts.https]) {
      for (const entry of byMethod.values()) result.observe(entry.value, entry.attributes);
    }
  });

  constructor() {
    createInstrument(getOtelkitMeter('@otelkit/node'), HTTP_SERVER_ACTIVE_REQUESTS).addCallback(this.observe);
  }

  /** Counts the request as active until its response closes. */
  track(request: IncomingMessage, response: ServerResponse): void {
    const method = normalizeMethod(request.method);
    const scheme = (request.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
    const byMethod = this.counts[scheme];
    let entry = byMethod.get(method);
    if (entry === undefined) {
      entry = { value: 0, attributes: Object.freeze({ 'http.request.method': method, 'url.scheme': scheme }) };
      byMethod.set(method, entry);
    }
    const counted = entry;
    counted.value++;
    response.once('close', () => {
      counted.value--;
    });
  }
}

type ActiveEntry = { value: number; readonly attributes: Attributes };

const RESPONSE = Symbol('otelkit.response');
type RequestWithResponse = IncomingMessage & { [RESPONSE]?: ServerResponse };

/** Options of {@link httpInstrumentationConfig}. */
export type HttpServerOptions = {
  /** Request headers to record on server spans; Authorization, Cookie and the like are removed. */
  requestHeaders: readonly string[];
  /** Send `traceresponse: 00-<trace-id>-<span-id>-<flags>` on instrumented responses. */
  traceResponseHeader: boolean;
};

/**
 * Wires otelkit's HTTP behaviour into instrumentation-http: scrapes and health probes are not
 * application requests; active requests are counted; query values and credentials never reach
 * spans; only allowlisted request headers are captured; the trace id is sent back to the caller.
 *
 * @returns the instrumentation config and a `dispose` that unsubscribes from Node's channel.
 */
export function httpInstrumentationConfig(options: HttpServerOptions): { config: HttpInstrumentationConfig; dispose: () => void } {
  const active = new ActiveRequests();
  const onRequestStart = (message: unknown): void => {
    const { request, response } = message as { request: RequestWithResponse; response: ServerResponse };
    // A property, not a WeakMap: a WeakMap entry per request costs the GC enough to cut throughput
    // by a third under load (measured: bench/http-throughput.mjs).
    request[RESPONSE] = response;
  };
  // Published by node:http before the 'request' event: the only place that sees both objects.
  subscribe('http.server.request.start', onRequestStart);

  const requestHeaders = options.requestHeaders.map((h) => h.toLowerCase()).filter((h) => !NEVER_CAPTURED_HEADERS.includes(h));
  const config: HttpInstrumentationConfig = {
    ignoreIncomingRequestHook: (request) => isOtelkitPath(request.url),
    headersToSpanAttributes: { server: { requestHeaders }, client: { requestHeaders: [] } },
    requestHook: (span: Span, request: IncomingMessage | ClientRequest) => {
      try {
        if ('socket' in request && (request as IncomingMessage).httpVersion !== undefined) {
          onIncoming(span, request as IncomingMessage);
        } else {
          onOutgoing(span);
        }
      } catch (error) {
        reportOnce('http.requestHook', `HTTP request hook failed: ${String(error)}`);
      }
    },
  };

  function onIncoming(span: Span, request: IncomingMessage): void {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    if (query >= 0) span.setAttribute('url.query', redactQuery(url.slice(query + 1)));
    const response = (request as RequestWithResponse)[RESPONSE];
    if (response === undefined) return;
    active.track(request, response);
    if (options.traceResponseHeader && !response.headersSent) {
      const spanContext = span.spanContext();
      const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
      response.setHeader('traceresponse', `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
    }
  }

  function onOutgoing(span: Span): void {
    const attributes = (span as unknown as { attributes?: Record<string, unknown> }).attributes;
    const full = attributes?.['url.full'];
    if (typeof full === 'string') span.setAttribute('url.full', redactUrl(full));
  }

  return { config, dispose: () => unsubscribe('http.server.request.start', onRequestStart) };
}
