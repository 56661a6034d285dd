import { DURATION_BUCKETS_SECONDS } from '../buckets.js';
import { ATTR } from './attributes.js';
import type { MetricDefinition } from './types.js';

// Database-client connection-pool metrics: OpenTelemetry semantic conventions (development),
// https://opentelemetry.io/docs/specs/semconv/database/database-metrics/#connection-pools
// The semconv advice gives no buckets for the three histograms; otelkit's duration preset applies.

const POOL_NAME = [ATTR.DB_CLIENT_CONNECTION_POOL_NAME];

/** `db.client.connection.count`: connections in the pool, split by `db.client.connection.state` (`idle` | `used`). */
export const DB_CLIENT_CONNECTION_COUNT: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'db.client.connection.count',
  kind: 'observable-updowncounter',
  unit: '{connection}',
  description: 'The number of connections that are currently in state described by the state attribute.',
  attributes: [ATTR.DB_CLIENT_CONNECTION_STATE, ATTR.DB_CLIENT_CONNECTION_POOL_NAME],
  stability: 'development',
});

/** `db.client.connection.max`: the most connections the pool allows open at once. */
export const DB_CLIENT_CONNECTION_MAX: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'db.client.connection.max',
  kind: 'observable-updowncounter',
  unit: '{connection}',
  description: 'The maximum number of open connections allowed.',
  attributes: POOL_NAME,
  stability: 'development',
});

/** `db.client.connection.idle.max`: the most idle connections the pool keeps. */
export const DB_CLIENT_CONNECTION_IDLE_MAX: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'db.client.connection.idle.max',
  kind: 'observable-updowncounter',
  unit: '{connection}',
  description: 'The maximum number of idle open connections allowed.',
  attributes: POOL_NAME,
  stability: 'development',
});

/** `db.client.connection.idle.min`: the fewest idle connections the pool keeps. */
export const DB_CLIENT_CONNECTION_IDLE_MIN: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'db.client.connection.idle.min',
  kind: 'observable-updowncounter',
  unit: '{connection}',
  description: 'The minimum number of idle open connections allowed.',
  attributes: POOL_NAME,
  stability: 'development',
});

/** `db.client.connection.pending_requests`: requests waiting for a connection. */
export const DB_CLIENT_CONNECTION_PENDING_REQUESTS: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'db.client.connection.pending_requests',
  kind: 'observable-updowncounter',
  unit: '{request}',
  description: 'The number of current pending requests for an open connection.',
  attributes: POOL_NAME,
  stability: 'development',
});

/** `db.client.connection.timeouts`: acquire attempts that timed out (counted in the bridge, read at collection). */
export const DB_CLIENT_CONNECTION_TIMEOUTS: MetricDefinition<'observable-counter'> = Object.freeze({
  name: 'db.client.connection.timeouts',
  kind: 'observable-counter',
  unit: '{timeout}',
  description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
  attributes: POOL_NAME,
  stability: 'development',
});

/** `db.client.connection.create_time`: time it took to create a new connection. */
export const DB_CLIENT_CONNECTION_CREATE_TIME: MetricDefinition<'histogram'> = Object.freeze({
  name: 'db.client.connection.create_time',
  kind: 'histogram',
  unit: 's',
  description: 'The time it took to create a new connection.',
  attributes: POOL_NAME,
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'development',
});

/** `db.client.connection.wait_time`: time from asking the pool for a connection to getting one. */
export const DB_CLIENT_CONNECTION_WAIT_TIME: MetricDefinition<'histogram'> = Object.freeze({
  name: 'db.client.connection.wait_time',
  kind: 'histogram',
  unit: 's',
  description: 'The time it took to obtain an open connection from the pool.',
  attributes: POOL_NAME,
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'development',
});

/** `db.client.connection.use_time`: time between borrowing a connection and returning it. */
export const DB_CLIENT_CONNECTION_USE_TIME: MetricDefinition<'histogram'> = Object.freeze({
  name: 'db.client.connection.use_time',
  kind: 'histogram',
  unit: 's',
  description: 'The time between borrowing a connection and returning it to the pool.',
  attributes: POOL_NAME,
  buckets: DURATION_BUCKETS_SECONDS,
  stability: 'development',
});

/**
 * `db.client.connection.utilization`: otelkit's own. Used connections divided by the pool's maximum,
 * 0 to 1; what the seeds' hand-built `pool_utilization_ratio` gauges showed. Only reported when the
 * pool's maximum is known and finite.
 */
export const DB_CLIENT_CONNECTION_UTILIZATION: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'db.client.connection.utilization',
  kind: 'observable-gauge',
  unit: '1',
  description: 'Used connections divided by the maximum number of connections of the pool, from 0 to 1.',
  attributes: POOL_NAME,
  stability: 'otelkit',
});

const HTTP_ORIGIN = [ATTR.SERVER_ADDRESS, ATTR.SERVER_PORT, ATTR.URL_SCHEME];

/** `http.client.open_connections`: semantic convention (development); open HTTP client connections by `http.connection.state` (`active` | `idle`). */
export const HTTP_CLIENT_OPEN_CONNECTIONS: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'http.client.open_connections',
  kind: 'observable-updowncounter',
  unit: '{connection}',
  description: 'Number of outbound HTTP connections that are currently active or idle on the client.',
  attributes: [ATTR.HTTP_CONNECTION_STATE, ...HTTP_ORIGIN],
  stability: 'development',
});

/**
 * `http.client.queued_requests`: otelkit's own (no convention exists). Requests an HTTP client pool
 * holds because every connection is busy: the HTTP analogue of `db.client.connection.pending_requests`
 * (undici `PoolStats.queued`).
 */
export const HTTP_CLIENT_QUEUED_REQUESTS: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'http.client.queued_requests',
  kind: 'observable-updowncounter',
  unit: '{request}',
  description: 'Number of requests waiting in an HTTP client pool for a free connection.',
  attributes: HTTP_ORIGIN,
  stability: 'otelkit',
});

/**
 * `http.client.pending_requests`: otelkit's own (no convention exists). Requests assigned to a
 * connection but not yet sent (undici `PoolStats.pending`).
 */
export const HTTP_CLIENT_PENDING_REQUESTS: MetricDefinition<'observable-updowncounter'> = Object.freeze({
  name: 'http.client.pending_requests',
  kind: 'observable-updowncounter',
  unit: '{request}',
  description: 'Number of requests assigned to an HTTP client connection and not yet sent.',
  attributes: HTTP_ORIGIN,
  stability: 'otelkit',
});

/**
 * `http.client.connection.utilization`: otelkit's own. Active connections divided by the pool's
 * connection limit, 0 to 1; only reported when the pool has a limit.
 */
export const HTTP_CLIENT_CONNECTION_UTILIZATION: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'http.client.connection.utilization',
  kind: 'observable-gauge',
  unit: '1',
  description: 'Active connections divided by the connection limit of the HTTP client pool, from 0 to 1.',
  attributes: HTTP_ORIGIN,
  stability: 'otelkit',
});
