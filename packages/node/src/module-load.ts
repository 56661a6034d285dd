import Module from 'node:module';
import { sep } from 'node:path';
import { describeError, reportOnce } from '@otelkit/core';

/** The parts of Node's CommonJS loader otelkit watches (stable since Node 0.x, not typed by @types/node). */
export type ModuleInternals = {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _resolveFilename: (request: string, parent: unknown) => string;
  _cache: Record<string, { exports: unknown } | undefined>;
};

/** Node's CommonJS loader, as otelkit watches it. */
export const moduleInternals = Module as unknown as ModuleInternals;

/** One load of a CommonJS module: `request` as passed to `Module._load` (a specifier, or a file path when an ES module imports the file). */
export type ModuleLoad = { request: string; parent: unknown; isMain: boolean };

/** What watches module loads: before Node loads a module, and after (returning replaced exports, or undefined). */
export type ModuleLoadWatcher = {
  /** A short name for diagnostics. */
  name: string;
  before?(load: ModuleLoad): void;
  after?(load: ModuleLoad, exports: unknown): unknown;
};

const watchers: ModuleLoadWatcher[] = [];
let original: ModuleInternals['_load'] | undefined;

function otelkitLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
  const load: ModuleLoad = { request, parent, isMain };
  const active = watchers.slice();
  for (const watcher of active) {
    if (!watcher.before) continue;
    try {
      watcher.before(load);
    } catch (error) {
      reportOnce(`module-load.${watcher.name}`, `${watcher.name} failed on a module load and was ignored: ${describeError(error)}`);
    }
  }
  let exports = original!.call(this, request, parent, isMain);
  for (const watcher of active) {
    if (!watcher.after) continue;
    try {
      const replaced = watcher.after(load, exports);
      if (replaced !== undefined) exports = replaced;
    } catch (error) {
      reportOnce(`module-load.${watcher.name}`, `${watcher.name} failed on a module load and was ignored: ${describeError(error)}`);
    }
  }
  return exports;
}

/**
 * Watches every CommonJS load (`require`, and an ES module's import of a CommonJS file, which Node
 * runs through `Module._load` with the file's path and no parent). One wrapper around `Module._load`
 * serves every watcher, in the order they were added; a watcher's failure is contained and reported
 * once; the module loads as usual either way.
 *
 * @returns a function that removes the watcher (and the wrapper with the last one, if nobody wrapped it since)
 */
export function watchModuleLoads(watcher: ModuleLoadWatcher): () => void {
  if (original === undefined) {
    original = moduleInternals._load;
    moduleInternals._load = otelkitLoad;
  }
  watchers.push(watcher);
  return () => {
    const at = watchers.indexOf(watcher);
    if (at >= 0) watchers.splice(at, 1);
    if (watchers.length === 0 && original !== undefined && moduleInternals._load === otelkitLoad) {
      moduleInternals._load = original;
      original = undefined;
    }
  };
}

/** The package a file in node_modules belongs to, its folder, and its path inside it. */
export function moduleOfFile(filename: string): { packageName: string; baseDir: string; subpath: string } | undefined {
  const segments = filename.split(sep);
  const at = segments.lastIndexOf('node_modules');
  if (at < 0 || segments[at + 1] === undefined) return undefined;
  const scoped = segments[at + 1]!.startsWith('@');
  const nameLength = scoped ? 2 : 1;
  return {
    packageName: segments.slice(at + 1, at + 1 + nameLength).join('/'),
    baseDir: segments.slice(0, at + 1 + nameLength).join(sep),
    subpath: segments.slice(at + 1 + nameLength).join('/'),
  };
}

/** The package a module specifier names: `lru-cache` for `lru-cache`, `mysql2` for `mysql2/promise`, `@keyv/redis` for `@keyv/redis/x`. */
export function packageOf(moduleName: string): string {
  const parts = moduleName.split('/');
  return moduleName.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
