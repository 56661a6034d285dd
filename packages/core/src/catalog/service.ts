import type { MetricDefinition } from './types.js';

/** `process.uptime`: semantic convention (development), seconds since the process started. */
export const PROCESS_UPTIME: MetricDefinition<'observable-gauge'> = Object.freeze({
  name: 'process.uptime',
  kind: 'observable-gauge',
  unit: 's',
  description: 'The time the process has been running.',
  attributes: [],
  stability: 'development',
});

/**
 * `service.starts`: otelkit's own, the seeds' `service_starts_total`: 1 once the process has started.
 * Its series carries no per-process label, so a restart shows as 1 again, not as an increase: count
 * restarts from `process.uptime` going back to zero (`resets(process_uptime_seconds[1h])`).
 */
export const SERVICE_STARTS: MetricDefinition<'counter'> = Object.freeze({
  name: 'service.starts',
  kind: 'counter',
  unit: '{start}',
  description: 'Number of times the service has started; one per process start.',
  attributes: [],
  stability: 'otelkit',
});
