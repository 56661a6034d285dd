import { randomUUID } from 'node:crypto';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { serviceResourceAttributes } from '@otelkit/core';
import type { OtelkitConfig } from './config.js';
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
    instanceId: attributes['service.instance.id'] ?? randomUUID(),
  });
  return defaultResource().merge(resourceFromAttributes({ ...attributes, ...identity }));
}
