import { circuitBreakerModuleBridges } from '@otelkit/circuit-breaker';
import type { ModuleBridge } from '@otelkit/core';

/**
 * The zero-code bridges `start()` installs unless told otherwise: each watches one library and binds
 * the objects the app creates with it. Turn one off with `OTELKIT_BRIDGES_DISABLED=<name>`.
 */
export const BUILTIN_MODULE_BRIDGES: readonly ModuleBridge[] = Object.freeze([...circuitBreakerModuleBridges]);
