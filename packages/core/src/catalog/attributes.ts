/**
 * Attribute keys used by otelkit metrics. Semantic-convention keys keep their upstream spelling;
 * the rest are otelkit's own and documented in the README's metric catalog.
 */
export const ATTR = Object.freeze({
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  HTTP_ROUTE: 'http.route',
  URL_SCHEME: 'url.scheme',
  ERROR_TYPE: 'error.type',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  NETWORK_PROTOCOL_VERSION: 'network.protocol.version',
  SERVICE_NAME: 'service.name',
  SERVICE_VERSION: 'service.version',
  SERVICE_INSTANCE_ID: 'service.instance.id',
  DEPLOYMENT_ENVIRONMENT_NAME: 'deployment.environment.name',
  OPERATION_NAME: 'operation.name',
  OPERATION_TYPE: 'operation.type',
  OPERATION_OUTCOME: 'operation.outcome',
  CIRCUIT_BREAKER_NAME: 'circuit_breaker.name',
  CIRCUIT_BREAKER_STATE: 'circuit_breaker.state',
  CIRCUIT_BREAKER_OUTCOME: 'circuit_breaker.outcome',
  CIRCUIT_BREAKER_TRANSITION_FROM: 'circuit_breaker.transition.from',
  CIRCUIT_BREAKER_TRANSITION_TO: 'circuit_breaker.transition.to',
  CACHE_NAME: 'cache.name',
  CACHE_RESULT: 'cache.result',
  CACHE_EVICTION_REASON: 'cache.eviction.reason',
  DB_CLIENT_CONNECTION_POOL_NAME: 'db.client.connection.pool.name',
  DB_CLIENT_CONNECTION_STATE: 'db.client.connection.state',
  HTTP_CONNECTION_STATE: 'http.connection.state',
} as const);
