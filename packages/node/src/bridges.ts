import { cacheZeroCodeBridges } from '@otelkit/cache/zero-code';
import { circuitBreakerZeroCodeBridges } from '@otelkit/circuit-breaker/zero-code';
import type { ModuleBridge } from '@otelkit/core';
import { poolZeroCodeBridges } from '@otelkit/pool/zero-code';

/**
 * The zero-code bridges `start()` installs unless told otherwise: each watches one library and binds
 * the objects the app creates with it (pools, caches, breakers). Turn one off with
 * `OTELKIT_BRIDGES_DISABLED=<name>` (names: see the README), or all with `all`. Each bridge's code
 * loads only when the app loads its module.
 */
export const BUILTIN_MODULE_BRIDGES: readonly ModuleBridge[] = Object.freeze([
  ...poolZeroCodeBridges,
  ...cacheZeroCodeBridges,
  ...circuitBreakerZeroCodeBridges,
]);
