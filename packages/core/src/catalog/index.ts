import * as cache from './cache.js';
import * as circuitBreaker from './circuit-breaker.js';
import * as http from './http.js';
import * as operation from './operation.js';
import * as otelkit from './otelkit.js';
import * as pool from './pool.js';
import * as service from './service.js';
import type { MetricDefinition } from './types.js';

/**
 * Every metric otelkit defines, grouped by domain. Each catalog module exports MetricDefinitions and
 * nothing else, so a definition added to one is in the catalog (and so in the views, the docs test and
 * the README check) without a second list to keep in step.
 */
export const METRIC_CATALOG: readonly MetricDefinition[] = Object.freeze(
  [http, service, operation, circuitBreaker, cache, pool, otelkit].flatMap((module) => Object.values(module) as MetricDefinition[]),
);
