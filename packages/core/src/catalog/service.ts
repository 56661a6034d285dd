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
 * `service.starts`: otelkit's own. Counts starts of the service by this process (1 after start);
 * summed over `service.instance.id` series it counts restarts, as the seeds' `service_starts_total`.
 */
export const SERVICE_STARTS: MetricDefinition<'counter'> = Object.freeze({
  name: 'service.starts',
  kind: 'counter',
  unit: '{start}',
  description: 'Number of times the service has started; one per process start.',
  attributes: [],
  stability: 'otelkit',
});
