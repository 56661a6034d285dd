import { createRequire } from 'node:module';
import { lazyModuleBridges, type ModuleBridge } from '@otelkit/core';

/**
 * The zero-code bridges of this package as the preload needs them at start: names and versions
 * only. The bridge code (cacheModuleBridges) loads when the app first loads one of these modules.
 * Must list exactly what cacheModuleBridges describes (a test compares them).
 */
export const cacheZeroCodeBridges: readonly ModuleBridge[] = lazyModuleBridges(
  [
    { name: 'lru-cache', moduleName: 'lru-cache', esModule: true, supportedVersions: ['>=10 <12'] },
    { name: 'node-cache', moduleName: 'node-cache', supportedVersions: ['>=5 <6'] },
    { name: 'keyv', moduleName: 'keyv', esModule: true, supportedVersions: ['>=5 <6'] },
    { name: 'cache-manager', moduleName: 'cache-manager', esModule: true, supportedVersions: ['>=7 <8'] },
  ],
  () => (createRequire(import.meta.url)('./module-bridges.js') as typeof import('./module-bridges.js')).cacheModuleBridges,
);
