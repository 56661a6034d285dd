import { createRequire } from 'node:module';
import { lazyModuleBridges, type ModuleBridge } from '@otelkit/core';

/**
 * The zero-code bridges of this package as the preload needs them at start: names and versions
 * only. The bridge code (circuitBreakerModuleBridges) loads when the app first loads one of these modules.
 * Must list exactly what circuitBreakerModuleBridges describes (a test compares them).
 */
export const circuitBreakerZeroCodeBridges: readonly ModuleBridge[] = lazyModuleBridges(
  [
    { name: 'opossum', moduleName: 'opossum', supportedVersions: ['>=6 <11'] },
  ],
  () => (createRequire(import.meta.url)('./module-bridge.js') as typeof import('./module-bridge.js')).circuitBreakerModuleBridges,
);
