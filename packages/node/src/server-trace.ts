import type { IncomingMessage } from 'node:http';
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { SamplerName } from './config.js';
import { methodAt, methodIndex } from './http-server-duration.js';
import { redactQuery } from './redact.js';
import { ContextOnlySpan } from './request-scope.js';
import { newSpanId, newTraceAndSpanIds } from './trace-ids.js';

/** What a request's trace needs at its end. */
export type ServerSpanEnd = {
  /** Status code sent, 0 when none was. */
  status: number;
  route: string | undefined;
  /** `error.type` when the request failed (5xx, or `aborted`). */
  errorType: string | undefined;
};

/**
 * How a server request joins a trace: its span (recording or not) in the context the handler runs
 * in. Two strategies, chosen at start by whether spans are exported.
 */
export interface ServerTrace {
  /** The span of `request`, parented to the caller's `traceparent` when there is one. */
  start(request: IncomingMessage, https: boolean, method: number): { span: Span; parent: Context };
  /** Ends what `start` began. */
  end(span: Span, request: IncomingMessage, end: ServerSpanEnd): void;
}

const ROOT_SAMPLED: Record<SamplerName, ((traceId: string, ratio: number) => boolean) | undefined> = {
  always_on: () => true,
  parentbased_always_on: () => true,
  always_off: () => false,
  parentbased_always_off: () => false,
  traceidratio: sampledByRatio,
  parentbased_traceidratio: sampledByRatio,
};

/**
 * For processes that export no spans (the default: no trace endpoint): no span is recorded, only
 * a span context, so the trace id still reaches `traceresponse` and outgoing calls, with the
 * sampled flag the configured sampler would have given. Costs a header scan and two random ids.
 */
export class PropagatingServerTrace implements ServerTrace {
  private readonly rootSampled: (traceId: string, ratio: number) => boolean;
  private readonly parentBased: boolean;

  constructor(
    sampler: SamplerName,
    private readonly ratio: number,
  ) {
    this.rootSampled = ROOT_SAMPLED[sampler] ?? (() => true);
    this.parentBased = sampler.startsWith('parentbased_');
  }

  start(request: IncomingMessage): { span: Span; parent: Context } {
    const parent = callerContext(request);
    const remote = parent === ROOT_CONTEXT ? undefined : trace.getSpanContext(parent);
    let traceId: string;
    let spanId: string;
    if (remote === undefined) ({ traceId, spanId } = newTraceAndSpanIds());
    else {
      traceId = remote.traceId;
      spanId = newSpanId();
    }
    const sampled =
      remote !== undefined && this.parentBased ? (remote.traceFlags & TraceFlags.SAMPLED) !== 0 : this.rootSampled(traceId, this.ratio);
    const span = new ContextOnlySpan(traceId, spanId, sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, remote?.traceState);
    return { span, parent };
  }

  end(): void {}
}

/**
 * For processes that export spans: a SERVER span from the SDK tracer, with the stable HTTP
 * semantic-convention attributes. Query values are redacted and only allowlisted headers captured.
 */
export class RecordingServerTrace implements ServerTrace {
  constructor(
    private readonly tracer: Tracer,
    private readonly requestHeaders: readonly string[],
  ) {}

  start(request: IncomingMessage, https: boolean, method: number): { span: Span; parent: Context } {
    const parent = callerContext(request);
    const methodName = methodAt(method);
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const attributes: Attributes = {
      'http.request.method': methodName,
      'url.scheme': https ? 'https' : 'http',
      'url.path': query >= 0 ? url.slice(0, query) : url,
      'network.protocol.version': request.httpVersion,
    };
    if (methodName !== request.method && request.method !== undefined) attributes['http.request.method_original'] = request.method;
    if (query >= 0) attributes['url.query'] = redactQuery(url.slice(query + 1));
    const host = request.headers.host;
    if (host !== undefined) addServerAddress(attributes, host);
    const userAgent = request.headers['user-agent'];
    if (userAgent !== undefined) attributes['user_agent.original'] = userAgent;
    const peer = request.socket?.remoteAddress;
    if (peer !== undefined) attributes['client.address'] = peer;
    for (const header of this.requestHeaders) {
      const value = request.headers[header];
      if (value !== undefined) attributes[`http.request.header.${header}`] = Array.isArray(value) ? value : [value];
    }
    const span = this.tracer.startSpan(methodName === '_OTHER' ? 'HTTP' : methodName, { kind: SpanKind.SERVER, attributes }, parent);
    return { span, parent };
  }

  end(span: Span, request: IncomingMessage, end: ServerSpanEnd): void {
    if (!span.isRecording()) return;
    if (end.status > 0) span.setAttribute('http.response.status_code', end.status);
    if (end.route !== undefined) {
      span.setAttribute('http.route', end.route);
      const method = methodAt(methodIndex(request.method));
      span.updateName(`${method === '_OTHER' ? 'HTTP' : method} ${end.route}`);
    }
    if (end.errorType !== undefined) {
      span.setAttribute('error.type', end.errorType);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

function addServerAddress(attributes: Attributes, host: string): void {
  const ipv6 = host.startsWith('[');
  const colon = ipv6 ? host.indexOf(']:') + 1 : host.lastIndexOf(':');
  if (colon > 0) {
    attributes['server.address'] = host.slice(0, colon);
    const port = Number(host.slice(colon + 1));
    if (Number.isInteger(port)) attributes['server.port'] = port;
  } else {
    attributes['server.address'] = host;
  }
}

/**
 * The caller's context from the request's `traceparent`, `tracestate` and `baggage`, through the
 * global propagator; the root context when the request has none of them. Reads `rawHeaders`: node:http
 * builds `request.headers` lazily, and an app that never reads it should not pay for it here.
 */
function callerContext(request: IncomingMessage): Context {
  const raw = request.rawHeaders;
  let carrier: Record<string, string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 11 && name.length !== 10 && name.length !== 7) continue;
    const lower = name.toLowerCase();
    if (lower === 'traceparent' || lower === 'tracestate' || lower === 'baggage') {
      carrier ??= {};
      // Repeated headers joined as node:http joins them in request.headers.
      const previous = carrier[lower];
      carrier[lower] = previous === undefined ? raw[i + 1]! : `${previous}, ${raw[i + 1]!}`;
    }
  }
  return carrier === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
}

/** The TraceIdRatioBased sampler's decision (the SDK's own algorithm, so both agree on a trace id). */
function sampledByRatio(traceId: string, ratio: number): boolean {
  if (!(ratio > 0)) return false;
  if (ratio >= 1) return true;
  let accumulation = 0;
  for (let i = 0; i < traceId.length / 8; i++) {
    const part = parseInt(traceId.slice(i * 8, i * 8 + 8), 16);
    accumulation = (accumulation ^ part) >>> 0;
  }
  return accumulation < Math.floor(ratio * 0xffffffff);
}
