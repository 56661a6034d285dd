import { extname } from 'node:path';
import type { ModuleBridge } from '@otelkit/core';
import type { OtelkitConfig } from './config.js';
import { packageOf } from './module-load.js';
import { nearestPackageJson } from './service-identity.js';

/**
 * Whether the preload should register Node's ESM loader hook (import-in-the-middle). It costs a
 * loader thread at start-up (about 45 ms here) and a round trip to it for every later `import`, and
 * it is only needed to patch ES modules: CommonJS libraries, also when an ES-module app imports them,
 * are patched without it. So in `auto` mode it is registered only for an ES-module entry whose
 * package.json depends on a module a bridge must catch as an ES module.
 */
export function needsEsmLoader(mode: OtelkitConfig['esmLoader'], entryScript: string | undefined, bridges: readonly ModuleBridge[]): boolean {
  if (mode !== 'auto') return mode === 'always';
  if (entryScript === undefined) return false;
  const pkg = nearestPackageJson(entryScript);
  const extension = extname(entryScript);
  const esmEntry = extension === '.mjs' || extension === '.mts' || (extension !== '.cjs' && extension !== '.cts' && pkg?.type === 'module');
  if (!esmEntry || pkg === undefined) return false;
  const dependencies = new Set<string>();
  for (const field of [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies, pkg.peerDependencies]) {
    if (typeof field === 'object' && field !== null) for (const name of Object.keys(field)) dependencies.add(name);
  }
  return bridges.some((bridge) => bridge.esModule === true && dependencies.has(packageOf(bridge.moduleName)));
}

let registered = false;

/** Notes that the preload registered the ESM loader hook (so ES modules can be hooked too). */
export function markEsmLoaderRegistered(): void {
  registered = true;
}

/** Whether the ESM loader hook is registered in this process. */
export function esmLoaderRegistered(): boolean {
  return registered;
}
