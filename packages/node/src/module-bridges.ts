import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { describeError, reportOnce, type ModuleBridge } from '@otelkit/core';
import { moduleInternals, moduleOfFile, packageOf, watchModuleLoads } from './module-load.js';

const require = createRequire(import.meta.url);

/**
 * Whether `version` satisfies `range`, for the ranges bridges declare: space-separated comparators
 * (`>=`, `>`, `<=`, `<`, `=`) on `major[.minor[.patch]]`, e.g. `>=6.15 <8`. Pre-releases never do.
 */
export function satisfiesRange(version: string, range: string): boolean {
  if (!/^\d+\.\d+\.\d+$/.test(version)) return false;
  const parse = (text: string): number[] => {
    const parts = text.split('.').map(Number);
    return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
  };
  const compare = (a: number[], b: number[]): number => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  const actual = parse(version);
  return range
    .trim()
    .split(/\s+/)
    .every((comparator) => {
      const match = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(comparator);
      if (!match) return false;
      const order = compare(actual, parse(match[2]!));
      switch (match[1]) {
        case '>=':
          return order >= 0;
        case '>':
          return order > 0;
        case '<=':
          return order <= 0;
        case '<':
          return order < 0;
        default:
          return order === 0;
      }
    });
}

function packageVersion(baseDir: string | undefined): string | undefined {
  if (baseDir === undefined) return undefined;
  try {
    const { version } = JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onLoad` for every CommonJS load of a module named in `names` (a package, or a package
 * subpath such as `mysql2/promise`), by `require`, and (when `importedFromEsm`) by an ES module's
 * import, which Node loads through `Module._load` with the file's path; once per exports object; what it returns
 * replaces the exports in the module cache. The `require-in-the-middle` job, in one wrapper around
 * `Module._load`, without its dependencies at start-up.
 *
 * @returns a function that removes the wrapper (if nobody wrapped it since)
 */
function watchCommonJs(
  names: readonly string[],
  onLoad: (exports: unknown, name: string, baseDir: string) => unknown,
  importedFromEsm: boolean,
): () => void {
  const watched = new Set(names);
  const packages = new Set(names.map(packageOf));
  const seen = new WeakSet<object>();
  const resolveFrom = createRequire(import.meta.url);

  const watchedModuleOf = (request: string, parent: unknown): { name: string; filename: string; baseDir: string } | undefined => {
    if (watched.has(request)) {
      const filename = moduleInternals._resolveFilename(request, parent);
      const module = moduleOfFile(filename);
      return module && { name: request, filename, baseDir: module.baseDir };
    }
    // An ES module's import of a CommonJS file (no parent); left to import-in-the-middle when it is on.
    if (!importedFromEsm || parent != null || !isAbsolute(request) || !request.includes('node_modules')) return undefined;
    const module = moduleOfFile(request);
    if (module === undefined || !packages.has(module.packageName)) return undefined;
    const subpathName = `${module.packageName}/${module.subpath.replace(/(\/index)?\.c?js$/, '')}`;
    if (watched.has(subpathName)) return { name: subpathName, filename: request, baseDir: module.baseDir };
    if (!watched.has(module.packageName)) return undefined;
    const main = resolveFrom.resolve(module.packageName, { paths: [module.baseDir] });
    return main === request ? { name: module.packageName, filename: request, baseDir: module.baseDir } : undefined;
  };

  return watchModuleLoads({
    name: 'zero-code bridges',
    after({ request, parent }, exports) {
      if (typeof request !== 'string' || (!watched.has(request) && !isAbsolute(request))) return undefined;
      if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null || seen.has(exports)) return undefined;
      const module = watchedModuleOf(request, parent);
      if (module === undefined) return undefined;
      const result = onLoad(exports, module.name, module.baseDir);
      seen.add(exports);
      if ((typeof result === 'object' || typeof result === 'function') && result !== null) {
        seen.add(result);
        const cached = moduleInternals._cache[module.filename];
        if (cached !== undefined && cached.exports === exports) cached.exports = result;
      }
      return result === exports ? undefined : result;
    },
  });
}

/**
 * Installs the zero-code bridges: when the app loads a bridge's module (`require`, and `import`
 * when the ESM loader hook is registered), a supported version's exports go through the bridge's
 * `patch`. Whatever `patch` throws is contained and reported once; the app then gets the module as
 * it was. CommonJS loads are watched in `Module._load` (see `watchCommonJs`), ES modules through
 * import-in-the-middle: no instrumentation package is loaded at start-up for this.
 *
 * @param esm whether to hook ES modules too (the ESM loader hook is registered)
 * @returns a function that removes the hooks and unpatches what was patched
 */
export function hookModuleBridges(bridges: readonly ModuleBridge[], esm: boolean): () => void {
  const byModule = new Map(bridges.map((bridge) => [bridge.moduleName, bridge]));
  const patched: Array<{ bridge: ModuleBridge; exports: unknown }> = [];
  const onLoad = (exports: unknown, name: string, baseDir: string | undefined): unknown => {
    const bridge = byModule.get(name);
    if (bridge === undefined) return exports;
    const version = packageVersion(baseDir);
    if (version === undefined || !bridge.supportedVersions.some((range) => satisfiesRange(version, range))) return exports;
    try {
      const result = bridge.patch(exports, version) ?? exports;
      patched.push({ bridge, exports: result });
      return result;
    } catch (error) {
      reportOnce(`bridge.${bridge.name}.patch`, `zero-code bridge "${bridge.name}" failed and is off: ${describeError(error)}`);
      return exports;
    }
  };
  const names = [...byModule.keys()];
  if (names.length === 0) return () => {};
  // With the ESM loader on, import-in-the-middle sees ES modules' imports of CommonJS files itself:
  // watching them here too would patch them twice.
  const unwatch = watchCommonJs(names, onLoad, !esm);
  let importHook: { unhook(): void } | undefined;
  if (esm) {
    const { Hook: ImportHook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
    importHook = new ImportHook(names, { internals: false }, (exports, name, baseDir) => onLoad(exports, name, baseDir ?? undefined));
  }
  return () => {
    unwatch();
    importHook?.unhook();
    for (const { bridge, exports } of patched.splice(0)) {
      try {
        bridge.unpatch?.(exports);
      } catch (error) {
        reportOnce(`bridge.${bridge.name}.unpatch`, `zero-code bridge "${bridge.name}" failed to unpatch: ${describeError(error)}`);
      }
    }
  };
}

/**
 * The bridges left on: those `OTELKIT_BRIDGES_DISABLED` does not name (`all` names every one), among
 * those on by default (`enabledByDefault`, true unless a bridge says otherwise).
 */
export function enabledBridges(bridges: readonly ModuleBridge[], disabled: readonly string[]): ModuleBridge[] {
  if (disabled.includes('all')) return [];
  return bridges.filter((bridge) => !disabled.includes(bridge.name) && bridge.enabledByDefault !== false);
}
