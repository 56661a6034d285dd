import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { ATTR } from './catalog/attributes.js';
import { PROCESS_UPTIME, SERVICE_STARTS } from './catalog/service.js';
import { createHandle, type BridgeHandle } from './handle.js';
import { createInstrument } from './instruments.js';
import { getOtelkitMeter } from './meter.js';

/** Options of {@link registerServiceMetrics}. */
export type ServiceMetricsOptions = {
  /** Meter to record through. @default the global meter for `@otelkit/core` */
  meter?: Meter;
  /** Start time in milliseconds since the epoch. @default the process start time */
  startTimeMs?: number;
};

/**
 * Registers the service metrics: `process.uptime` (observable gauge, seconds, read at collection
 * time) and `service.starts` (counter, incremented once now). Service identity is not a metric here:
 * it travels as resource attributes (see {@link serviceResourceAttributes}), which Prometheus shows
 * as `target_info`.
 *
 * @returns a handle whose `unbind()` stops reporting uptime.
 */
export function registerServiceMetrics(options: ServiceMetricsOptions = {}): BridgeHandle {
  const meter = options.meter ?? getOtelkitMeter();
  const startTimeMs = options.startTimeMs ?? performance.timeOrigin;
  const uptime = createInstrument(meter, PROCESS_UPTIME);
  const observe = (result: ObservableResult): void => {
    result.observe(Math.max(0, (Date.now() - startTimeMs) / 1000));
  };
  uptime.addCallback(observe);
  createInstrument(meter, SERVICE_STARTS).add(1);
  return createHandle(() => uptime.removeCallback(observe));
}

/** Identity of a service, as {@link serviceResourceAttributes} turns it into resource attributes. */
export type ServiceIdentity = {
  /** `service.name` */
  name?: string;
  /** `service.version` */
  version?: string;
  /** `deployment.environment.name`, e.g. `production` */
  environment?: string;
  /** `service.instance.id`: unique per process, e.g. a UUID. */
  instanceId?: string;
};

/**
 * The resource attributes that identify a service (semantic-convention keys), leaving out the
 * ones not given.
 */
export function serviceResourceAttributes(identity: ServiceIdentity): Attributes {
  const attributes: Attributes = {};
  if (identity.name) attributes[ATTR.SERVICE_NAME] = identity.name;
  if (identity.version) attributes[ATTR.SERVICE_VERSION] = identity.version;
  if (identity.environment) attributes[ATTR.DEPLOYMENT_ENVIRONMENT_NAME] = identity.environment;
  if (identity.instanceId) attributes[ATTR.SERVICE_INSTANCE_ID] = identity.instanceId;
  return attributes;
}
