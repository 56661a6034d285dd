import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type * as Http from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { context, propagation, type TextMapSetter } from '@opentelemetry/api';
import { describeError, reportOnce } from '@otelkit/core';

type RequestFunction = (...args: unknown[]) => Http.ClientRequest;
type HttpModule = { request: RequestFunction; get: RequestFunction };
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
 * `http`/`https` `request` and `get` get the active context's headers (a request whose headers are
 * already sent, or that carries its own `traceparent`, is left alone), and so do undici and global
 * `fetch` requests, through undici's `undici:request:create` channel. Every argument, callback and
 * return value is passed through untouched.
 *
 * @param modules which parts to cover: `http` (node:http and node:https) and `undici`
 * @returns a function that undoes it (if nobody replaced the functions since)
 */
export function propagateToOutgoingRequests(modules: { http: boolean; undici: boolean }): () => void {
  const undo: Array<() => void> = [];
  if (modules.http) {
    const require = createRequire(import.meta.url);
    for (const name of ['node:http', 'node:https']) {
      const target = require(name) as HttpModule;
      const originalRequest = target.request;
      const originalGet = target.get;
      const request: RequestFunction = function otelkitRequest(this: unknown, ...args: unknown[]) {
        const outgoing = originalRequest.apply(this, args);
        inject(outgoing);
        return outgoing;
      };
      // As node:http's own get: request, then end (its get calls the unwrapped request inside).
      const get: RequestFunction = function otelkitGet(this: unknown, ...args: unknown[]) {
        const outgoing = request.apply(this, args);
        outgoing.end();
        return outgoing;
      };
      target.request = request;
      target.get = get;
      undo.push(() => {
        if (target.request === request) target.request = originalRequest;
        if (target.get === get) target.get = originalGet;
      });
    }
    syncBuiltinESMExports();
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
    syncBuiltinESMExports();
  };
}
