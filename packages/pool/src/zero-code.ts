import { createRequire } from 'node:module';
import { lazyModuleBridges, type ModuleBridge } from '@otelkit/core';

/**
 * The zero-code bridges of this package as the preload needs them at start: names and versions
 * only. The bridge code (poolModuleBridges) loads when the app first loads one of these modules.
 * Must list exactly what poolModuleBridges describes (a test compares them).
 */
export const poolZeroCodeBridges: readonly ModuleBridge[] = lazyModuleBridges(
  [
    { name: 'pg', moduleName: 'pg', supportedVersions: ['>=8 <9'] },
    { name: 'mysql2', moduleName: 'mysql2', supportedVersions: ['>=3 <4'] },
    { name: 'mysql2-promise', moduleName: 'mysql2/promise', supportedVersions: ['>=3 <4'] },
    { name: 'generic-pool', moduleName: 'generic-pool', supportedVersions: ['>=3 <4'] },
    { name: 'tarn', moduleName: 'tarn', supportedVersions: ['>=3 <4'] },
    { name: 'undici', moduleName: 'undici', supportedVersions: ['>=6.15 <8'] },
  ],
  () => (createRequire(import.meta.url)('./module-bridges.js') as typeof import('./module-bridges.js')).poolModuleBridges,
);
