import type { Attributes, SpanContext } from '@opentelemetry/api';
import { bindHistogram, HTTP_SERVER_REQUEST_DURATION, type BoundHistogram } from '@otelkit/core';

/** Methods the semantic conventions know; anything else is reported as `_OTHER`. */
const KNOWN_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE'] as const;
const OTHER = '_OTHER';
const METHOD_INDEX: ReadonlyMap<string, number> = new Map(KNOWN_METHODS.map((method, index) => [method, index]));
const OTHER_INDEX = KNOWN_METHODS.length;
/** How many `http.request.method` values there are: the known methods and `_OTHER`. */
export const METHOD_COUNT = OTHER_INDEX + 1;
/** `network.protocol.version` values node:http reports, by index; anything else is left out. */
const PROTOCOL_INDEX: ReadonlyMap<string, number> = new Map([['1.0', 0], ['1.1', 1], ['2.0', 2]]);
const PROTOCOL_VALUE = ['1.0', '1.1', '2'] as const;
const NO_PROTOCOL = 3;
/** Routes kept in the cache of bound series; past this, series are looked up in the store each time. */
const MAX_CACHED_ROUTES = 1000;

/** `error.type` of a request whose connection closed before its response finished. */
export const ABORTED = 'aborted';

/** The `http.request.method` value of a request method: known methods as they are, else `_OTHER`. */
export function normalizeMethod(method: string | undefined): string {
  const index = method === undefined ? undefined : METHOD_INDEX.get(method);
  return index === undefined ? OTHER : KNOWN_METHODS[index]!;
}

/** The index of `method` among the known methods, `_OTHER`'s index for the rest. */
export function methodIndex(method: string | undefined): number {
  return (method === undefined ? undefined : METHOD_INDEX.get(method)) ?? OTHER_INDEX;
}

/** The index of a request's HTTP version among those reported. */
export function protocolIndex(httpVersion: string | undefined): number {
  return (httpVersion === undefined ? undefined : PROTOCOL_INDEX.get(httpVersion)) ?? NO_PROTOCOL;
}

/** The method name at `index` (`_OTHER` past the known ones). */
export function methodAt(index: number): string {
  return KNOWN_METHODS[index] ?? OTHER;
}

/**
 * `http.server.request.duration` on otelkit's bound histograms: each distinct (route, method,
 * status, scheme, protocol, aborted) is bound once and cached under a number, so a request pays
 * two map lookups and one bucket update, no attribute object and no hashing.
 */
export class HttpServerDuration {
  private readonly byRoute = new Map<string, Map<number, BoundHistogram>>();

  /**
   * Records one request.
   * @param route the route template, or undefined (no `http.route`)
   * @param status the status code sent, or 0 when none was (an aborted request before its headers)
   * @param spanContext the request's span, for the exemplar
   */
  record(
    seconds: number,
    route: string | undefined,
    method: number,
    status: number,
    https: boolean,
    protocol: number,
    aborted: boolean,
    spanContext?: SpanContext,
  ): void {
    const key = ((((status * 16 + method) * 4 + protocol) * 2 + (https ? 1 : 0)) * 2) + (aborted ? 1 : 0);
    const routeKey = route ?? '';
    let byKey = this.byRoute.get(routeKey);
    if (byKey === undefined) {
      if (this.byRoute.size >= MAX_CACHED_ROUTES) {
        this.bind(route, method, status, https, protocol, aborted).record(seconds, spanContext);
        return;
      }
      byKey = new Map();
      this.byRoute.set(routeKey, byKey);
    }
    let histogram = byKey.get(key);
    if (histogram === undefined) {
      histogram = this.bind(route, method, status, https, protocol, aborted);
      byKey.set(key, histogram);
    }
    histogram.record(seconds, spanContext);
  }

  private bind(route: string | undefined, method: number, status: number, https: boolean, protocol: number, aborted: boolean): BoundHistogram {
    const attributes: Attributes = {
      'http.request.method': methodAt(method),
      'url.scheme': https ? 'https' : 'http',
    };
    if (status > 0) attributes['http.response.status_code'] = status;
    if (route !== undefined) attributes['http.route'] = route;
    if (aborted) attributes['error.type'] = ABORTED;
    else if (status >= 500 && status < 600) attributes['error.type'] = String(status);
    if (protocol !== NO_PROTOCOL) attributes['network.protocol.version'] = PROTOCOL_VALUE[protocol]!;
    return bindHistogram(HTTP_SERVER_REQUEST_DURATION, attributes, { scope: '@otelkit/node' });
  }
}
