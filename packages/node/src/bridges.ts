import { cacheModuleBridges } from '@otelkit/cache';
import { circuitBreakerModuleBridges } from '@otelkit/circuit-breaker';
import type { ModuleBridge } from '@otelkit/core';
import { poolModuleBridges } from '@otelkit/pool';

/**
 * The zero-code bridges `start()` installs unless told otherwise: each watches one library and binds
 * the objects the app creates with it (pools, caches, breakers). Turn one off with
 * `OTELKIT_BRIDGES_DISABLED=<name>` (names: see the README), or all with `all`.
 */
export const BUILTIN_MODULE_BRIDGES: readonly ModuleBridge[] = Object.freeze([
  ...poolModuleBridges,
  ...cacheModuleBridges,
  ...circuitBreakerModuleBridges,
]);
