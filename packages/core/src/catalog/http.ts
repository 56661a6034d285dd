import { DURATION_BUCKETS_SECONDS } from '../buckets.js';
import { ATTR } from './attributes.js';
import type { MetricDefinition } from './types.js';

/** `http.server.request.duration`: stable semantic convention, created by instrumentation-http; otelkit sets its buckets. */
export const HTTP_SERVER_REQUEST_DURATION: MetricDefinition<'histogram'> = Object.freeze({
  name: 'http.server.request.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Duration of HTTP server requests.',
  attributes: [
    ATTR.HTTP_REQUEST_METHOD,
    ATTR.URL_SCHEME,
    ATTR.HTTP_RESPONSE_STATUS_CODE,
    ATTR.HTTP_ROUTE,
    ATTR.ERROR_TYPE,
    ATTR.NETWORK_PROTOCOL_VERSION,
  ],
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'stable',
});

/** `http.server.active_requests`: semantic convention (development); instrumentation-http lacks it, otelkit adds it. */
export const HTTP_SERVER_ACTIVE_REQUESTS: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'http.server.active_requests',
  kind: 'observable-updowncounter',
  unit: '{request}',
  description: 'Number of active HTTP server requests.',
  attributes: [ATTR.HTTP_REQUEST_METHOD, ATTR.URL_SCHEME],
  stability: 'development',
});
