import {
  CACHE_ENTRIES,
  CACHE_EVICTIONS,
  CACHE_MAX_ENTRIES,
  CACHE_MAX_SIZE,
  CACHE_PUTS,
  CACHE_REQUESTS,
  CACHE_SIZE,
} from './cache.js';
import { HTTP_SERVER_ACTIVE_REQUESTS, HTTP_SERVER_REQUEST_DURATION } from './http.js';
import { OPERATION_DURATION } from './operation.js';
import { PROCESS_UPTIME, SERVICE_STARTS } from './service.js';
import type { MetricDefinition } from './types.js';

/** Every metric otelkit defines, in README order. Tests and docs iterate over this list. */
export const METRIC_CATALOG: readonly MetricDefinition[] = Object.freeze([
  HTTP_SERVER_REQUEST_DURATION,
  HTTP_SERVER_ACTIVE_REQUESTS,
  PROCESS_UPTIME,
  SERVICE_STARTS,
  OPERATION_DURATION,
  CACHE_REQUESTS,
  CACHE_PUTS,
  CACHE_EVICTIONS,
  CACHE_ENTRIES,
  CACHE_MAX_ENTRIES,
  CACHE_SIZE,
  CACHE_MAX_SIZE,
]);
