import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { context, propagation, type TextMapSetter } from '@opentelemetry/api';
import { describeError, reportOnce } from '@otelkit/core';

type UndiciRequest = { addHeader(name: string, value: string): unknown; headers?: unknown };

/** Whether an undici request already carries a `traceparent` (another instrumentation put it there). */
function hasTraceparent(request: UndiciRequest): boolean {
  const headers = request.headers;
  if (Array.isArray(headers)) return headers.some((item) => String(item).toLowerCase() === 'traceparent');
  return typeof headers === 'string' && /(^|\n)traceparent:/i.test(headers);
}

const setOnClientRequest: TextMapSetter<Http.ClientRequest> = {
  set: (request, key, value) => request.setHeader(key, value),
};
const setOnUndiciRequest: TextMapSetter<UndiciRequest> = {
  set: (request, key, value) => {
    request.addHeader(key, value);
  },
};

/** Puts the active context's `traceparent` (and `tracestate`, `baggage`) on an outgoing request. */
function inject(request: Http.ClientRequest): void {
  try {
    if (!request.headersSent && request.getHeader('traceparent') === undefined) propagation.inject(context.active(), request, setOnClientRequest);
  } catch (error) {
    reportOnce('propagation.http', `could not add trace context to an outgoing request: ${describeError(error)}`);
  }
}

/**
 * W3C trace context on outgoing calls when no spans are recorded, without instrumentation-http:
 * every `node:http` and `node:https` client request (`request`, `get`, default or named imports, any
 * agent) gets the active context's headers just before its headers are written, and so do undici and
 * global `fetch` requests, through undici's `undici:request:create` channel. A request whose headers
 * are already written, or that carries its own `traceparent`, is left alone.
 *
 * For http and https this wraps one method, `ClientRequest.prototype._implicitHeader`, which both
 * modules' requests go through when their headers are first written (Node ≥ 0.x), rather than the
 * four `request`/`get` functions: node:https, and the TLS code it loads (about 7 ms of start-up here),
 * need not be loaded by otelkit for it.
 *
 * @param modules which parts to cover: `http` (node:http and node:https) and `undici`
 * @returns a function that undoes it (if nobody replaced the method since)
 */
export function propagateToOutgoingRequests(modules: { http: boolean; undici: boolean }): () => void {
  const undo: Array<() => void> = [];
  if (modules.http) {
    const prototype = (createRequire(import.meta.url)('node:http') as typeof Http).ClientRequest.prototype as unknown as {
      _implicitHeader: (this: Http.ClientRequest) => void;
    };
    const original = prototype._implicitHeader;
    const implicitHeader = function otelkitImplicitHeader(this: Http.ClientRequest): void {
      inject(this);
      original.call(this);
    };
    prototype._implicitHeader = implicitHeader;
    undo.push(() => {
      if (prototype._implicitHeader === implicitHeader) prototype._implicitHeader = original;
    });
  }
  if (modules.undici) {
    const onCreate = (message: unknown): void => {
      try {
        const request = (message as { request?: UndiciRequest }).request;
        if (request !== undefined && typeof request.addHeader === 'function' && !hasTraceparent(request)) propagation.inject(context.active(), request, setOnUndiciRequest);
      } catch (error) {
        reportOnce('propagation.undici', `could not add trace context to an undici request: ${describeError(error)}`);
      }
    };
    subscribe('undici:request:create', onCreate);
    undo.push(() => unsubscribe('undici:request:create', onCreate));
  }
  return () => {
    for (const step of undo.splice(0)) step();
  };
}
