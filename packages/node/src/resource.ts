import { randomUUID } from 'node:crypto';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { serviceResourceAttributes } from '@otelkit/core';
import type { OtelkitConfig } from './config.js';
import { ownWorkerLabel } from './processes/links.js';
import { entryPackage } from './service-identity.js';

/** The resource of this process: `OTEL_RESOURCE_ATTRIBUTES`, the service identity and the SDK's defaults. */
export function buildResource(config: OtelkitConfig): Resource {
  const attributes = { ...config.resourceAttributes };
  const entry = entryPackage();
  const serviceName =
    config.serviceName ?? attributes['service.name'] ?? entry?.name ?? process.env.npm_package_name ?? 'unknown_service:node';
  const identity = serviceResourceAttributes({
    name: serviceName,
    version: attributes['service.version'] ?? entry?.version ?? process.env.npm_package_version,
    environment: attributes['deployment.environment.name'],
    instanceId: instanceId(attributes['service.instance.id']),
  });
  return defaultResource().merge(resourceFromAttributes({ ...attributes, ...identity }));
}

/**
 * `service.instance.id`: a new UUID per process (and per thread), unless configured. A configured one
 * is shared by every cluster worker and thread that inherits the environment, so each of those gets
 * its worker label appended (`api-1` → `api-1-3` for cluster worker 3, `api-1-thread-2` for a thread).
 */
function instanceId(configured: string | undefined): string {
  if (configured === undefined) return randomUUID();
  const worker = ownWorkerLabel();
  return worker === undefined ? configured : `${configured}-${worker}`;
}
