import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describeError, reportOnce, type ModuleBridge } from '@otelkit/core';
import { Hook as RequireHook } from 'require-in-the-middle';

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
 * Installs the zero-code bridges: when the app loads a bridge's module (`require`, and `import`
 * when the ESM loader hook is registered), a supported version's exports go through the bridge's
 * `patch`. Whatever `patch` throws is contained and reported once; the app then gets the module as
 * it was. Uses require-in-the-middle (and import-in-the-middle) directly, as the OpenTelemetry
 * instrumentation base class does, without loading that package at start-up.
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
  const requireHook = new RequireHook(names, { internals: false }, (exports, name, baseDir) => onLoad(exports, name, baseDir) as typeof exports);
  let importHook: { unhook(): void } | undefined;
  if (esm) {
    const { Hook: ImportHook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
    importHook = new ImportHook(names, { internals: false }, (exports, name, baseDir) => onLoad(exports, name, baseDir ?? undefined));
  }
  return () => {
    requireHook.unhook();
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
