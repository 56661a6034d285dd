import { createRequire, syncBuiltinESMExports } from 'node:module';
import { isAbsolute } from 'node:path';
import { describeError, reportOnce } from '@otelkit/core';
import { moduleInternals, watchModuleLoads } from './module-load.js';

/**
 * Lets require-in-the-middle (what OpenTelemetry instrumentations hook with) see the CommonJS packages
 * an ES-module app imports, without an ESM loader thread. (otelkit's zero-code bridges watch
 * `Module._load` themselves, see module-bridges.ts.)
 *
 * Node loads such a package's entry file through `Module._load(filename)` with no parent module,
 * not through `require()`, so require hooks never see it. This watches `Module._load`: right after such
 * a load, the same file is required once more, which runs the hooks on it (patching in place, or
 * handing back replaced exports, which are put in the module's place before Node reads its named
 * exports).
 *
 * @returns a function that stops it.
 */
export function hookCommonJsLoadedFromEsm(): () => void {
  const unwatch = watchModuleLoads({
    name: 'cjs-from-esm',
    after({ request, parent, isMain }, exports) {
      if (parent != null || isMain || typeof request !== 'string' || !isAbsolute(request) || !request.includes('node_modules')) return undefined;
      const hooked = createRequire(request)(request) as unknown;
      const cached = moduleInternals._cache[request];
      if (cached !== undefined && hooked !== cached.exports) cached.exports = hooked;
      return hooked === exports ? undefined : hooked;
    },
  });
  return unwatch;
}

/**
 * Requires Node's `http` and `https` once, after instrumentations that patch them are registered, so
 * their require hooks run, and syncs the ES-module views of built-ins: `import http from 'node:http'`
 * (which goes through no require hook) then gets the patched module too.
 */
export function requireHttpBuiltins(): void {
  const require = createRequire(import.meta.url);
  for (const builtin of ['node:http', 'node:https']) {
    try {
      require(builtin);
    } catch (error) {
      reportOnce(`cjs-from-esm.${builtin}`, `could not patch ${builtin}: ${describeError(error)}`);
    }
  }
  syncBuiltinESMExports();
}
