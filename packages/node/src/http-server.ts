import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { context, ROOT_CONTEXT, trace, type Attributes, type Context, type ObservableResult, type Span } from '@opentelemetry/api';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { contain, createInstrument, describeError, getOtelkitMeter, HTTP_SERVER_ACTIVE_REQUESTS, reportOnce } from '@otelkit/core';
import { isOtelkitPath } from './endpoints.js';
import { ABORTED, HttpServerDuration, METHOD_COUNT, methodAt, methodIndex, protocolIndex } from './http-server-duration.js';
import { redactUrl } from './redact.js';
import { RequestScope, RPC_METADATA_KEY, RPC_TYPE_HTTP } from './request-scope.js';
import type { ServerTrace } from './server-trace.js';

export { normalizeMethod } from './http-server-duration.js';

/**
 * Sets the low-cardinality route template of the current request (`/users/:id`) for
 * `http.route` on the server span and on `http.server.request.duration`, for apps whose framework has
 * no instrumentation that does it. Call it from the request handler; outside one it does nothing.
 */
export function setHttpRoute(route: string): void {
  const metadata = context.active().getValue(RPC_METADATA_KEY) as { type?: unknown; route?: string } | undefined;
  if (metadata?.type === RPC_TYPE_HTTP) metadata.route = route;
  trace.getActiveSpan()?.setAttribute('http.route', route);
}

const STATE = Symbol('otelkit.serverRequest');
const IN_FLIGHT = Symbol('otelkit.inFlight');
type TrackedResponse = ServerResponse & { [STATE]?: RequestScope };
type TrackedSocket = Socket & { encrypted?: boolean; [IN_FLIGHT]?: Set<RequestScope> };

/** Makes a context the active one for the rest of the request's work (the context manager's `enter`). */
export type AttachContext = (context: Context) => void;

/** Options of {@link instrumentHttpServer}. */
export type HttpServerOptions = {
  /** How requests join traces (a recording span, or only a propagated span context). */
  trace: ServerTrace;
  /** Makes a context active for the rest of the request's synchronous and asynchronous work. */
  attach: AttachContext;
  /** Send `traceresponse: 00-<trace-id>-<span-id>-<flags>` on every instrumented response. */
  traceResponseHeader: boolean;
};

/**
 * HTTP server telemetry on Node's own `diagnostics_channel` events (`http.server.request.start`,
 * `http.server.response.finish`), for node:http and every framework on it, ESM or CommonJS, with no
 * patching: `http.server.request.duration` on otelkit's bound histograms, `http.server.active_requests`
 * as plain numbers, and the request's trace context (span, `traceresponse`, propagation).
 * Requests to otelkit's own endpoints are not counted. A request whose connection closes before
 * its response finishes is counted once, with `error.type=aborted`.
 *
 * @returns a function that unsubscribes.
 */
export function instrumentHttpServer(options: HttpServerOptions): () => void {
  const duration = new HttpServerDuration();
  const active = new ActiveRequests();
  const { trace: serverTrace, attach, traceResponseHeader } = options;

  const finish = (state: RequestScope, response: ServerResponse, aborted: boolean): void => {
    state.done = true;
    (state.socket as TrackedSocket | undefined)?.[IN_FLIGHT]?.delete(state);
    active.decrement(state);
    const status = aborted && !response.headersSent ? 0 : response.statusCode;
    const route = state.route ?? expressRoute(state.request);
    duration.record((performance.now() - state.startMs) / 1000, route, state.method, status, state.https, state.protocol, aborted, state.span.spanContext());
    const errorType = aborted ? ABORTED : status >= 500 && status < 600 ? String(status) : undefined;
    serverTrace.end(state.span, state.request, { status, route, errorType });
  };

  // Channel subscribers and listeners catch everything themselves (no wrapper allocating per call):
  // an exception thrown from a diagnostics_channel subscriber would reach the app as uncaught.
  const onStart = (message: unknown): void => {
    try {
      const { request, response } = message as { request: IncomingMessage; response: TrackedResponse };
      if (isOtelkitPath(request.url)) {
        // Not the app's request: it runs in no request's context (not in the last one of this connection).
        attach(ROOT_CONTEXT);
        return;
      }
      const method = methodIndex(request.method);
      const socket = request.socket as TrackedSocket | null;
      const https = socket?.encrypted === true;
      const { span, parent } = serverTrace.start(request, https, method);
      const scope = new RequestScope(parent, span, request, response, performance.now(), method, https, protocolIndex(request.httpVersion));
      response[STATE] = scope;
      active.increment(scope);
      if (socket) trackOnSocket(socket, scope);
      attach(scope);
      if (traceResponseHeader && !response.headersSent) {
        const spanContext = span.spanContext();
        response.setHeader('traceresponse', `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags & 1}`);
      }
    } catch (error) {
      attach(ROOT_CONTEXT);
      reportOnce('http.server.request.start', `HTTP server request hook failed and was ignored: ${describeError(error)}`);
    }
  };

  const onFinish = (message: unknown): void => {
    try {
      const response = (message as { response: TrackedResponse }).response;
      const state = response[STATE];
      if (state !== undefined && !state.done) finish(state, response, false);
    } catch (error) {
      reportOnce('http.server.response.finish', `HTTP server response hook failed and was ignored: ${describeError(error)}`);
    }
  };

  // In-flight requests are kept per connection, with one 'close' listener per connection (not per
  // request): when the connection closes, every request on it that has not finished was aborted,
  // including pipelined ones whose response never got the socket (those emit no event of their own).
  const trackOnSocket = (socket: TrackedSocket, scope: RequestScope): void => {
    let inFlight = socket[IN_FLIGHT];
    if (inFlight === undefined) {
      inFlight = socket[IN_FLIGHT] = new Set();
      socket.once('close', onSocketClose);
    }
    inFlight.add(scope);
    scope.socket = socket;
  };

  function onSocketClose(this: TrackedSocket): void {
    try {
      const inFlight = this[IN_FLIGHT];
      if (inFlight === undefined) return;
      for (const scope of inFlight) if (!scope.done) finish(scope, scope.response, true);
      inFlight.clear();
    } catch (error) {
      reportOnce('http.server.socket.close', `HTTP connection close listener failed and was ignored: ${describeError(error)}`);
    }
  }

  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
    active.dispose();
  };
}

/**
 * The route template of an express (4 and 5) route matched on the app itself, when nothing set one:
 * the route's own path, a string only (a RegExp or an array is no template). Through a mounted router
 * `req.baseUrl` is the matched path, not the mount's pattern (it could hold ids), so none is taken
 * from it: instrumentation-express, loaded with express, sets those routes.
 */
function expressRoute(request: IncomingMessage): string | undefined {
  const route = (request as { route?: { path?: unknown } }).route;
  if (route === undefined || typeof route.path !== 'string') return undefined;
  const baseUrl = (request as { baseUrl?: unknown }).baseUrl;
  return baseUrl === undefined || baseUrl === '' ? route.path : undefined;
}

/**
 * `http.server.active_requests`, kept as plain numbers per (method, scheme) and reported at
 * collection time: the request path pays two integer updates, no attribute hashing.
 */
class ActiveRequests {
  // [scheme][method]: http then https, by method index.
  private readonly counts = [new Array<number>(METHOD_COUNT).fill(0), new Array<number>(METHOD_COUNT).fill(0)];
  private readonly attributes: Attributes[][] = [0, 1].map((scheme) =>
    Array.from({ length: METHOD_COUNT }, (_, method) => Object.freeze({ 'http.request.method': methodAt(method), 'url.scheme': scheme ? 'https' : 'http' })),
  );
  private readonly seen = [new Array<boolean>(METHOD_COUNT).fill(false), new Array<boolean>(METHOD_COUNT).fill(false)];
  private readonly observe = contain('http.server.active_requests', (result: ObservableResult) => {
    for (let scheme = 0; scheme < 2; scheme++) {
      for (let method = 0; method < METHOD_COUNT; method++) {
        if (this.seen[scheme]![method]) result.observe(this.counts[scheme]![method]!, this.attributes[scheme]![method]);
      }
    }
  });
  private readonly instrument = createInstrument(getOtelkitMeter('@otelkit/node'), HTTP_SERVER_ACTIVE_REQUESTS);

  constructor() {
    this.instrument.addCallback(this.observe);
  }

  increment(state: RequestScope): void {
    const scheme = state.https ? 1 : 0;
    this.counts[scheme]![state.method]!++;
    this.seen[scheme]![state.method] = true;
  }

  decrement(state: RequestScope): void {
    this.counts[state.https ? 1 : 0]![state.method]!--;
  }

  dispose(): void {
    this.instrument.removeCallback(this.observe);
  }
}

/**
 * instrumentation-http for outgoing requests only (client spans, `traceparent` injection, client
 * duration): server requests are otelkit's own (see {@link instrumentHttpServer}). Userinfo
 * credentials and query values never reach client spans.
 */
export function httpClientInstrumentationConfig(): HttpInstrumentationConfig {
  return {
    disableIncomingRequestInstrumentation: true,
    headersToSpanAttributes: { client: { requestHeaders: [] } },
    requestHook: (span: Span) => {
      try {
        const attributes = (span as unknown as { attributes?: Record<string, unknown> }).attributes;
        const full = attributes?.['url.full'];
        if (typeof full === 'string') span.setAttribute('url.full', redactUrl(full));
      } catch (error) {
        reportOnce('http.requestHook', `HTTP request hook failed: ${String(error)}`);
      }
    },
  };
}
