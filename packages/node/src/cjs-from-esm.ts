import Module, { createRequire, syncBuiltinESMExports } from 'node:module';
import { isAbsolute } from 'node:path';
import { describeError, reportOnce } from '@otelkit/core';

type ModuleInternals = {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports: unknown } | undefined>;
};

/**
 * Lets require-in-the-middle (what OpenTelemetry instrumentations hook with) see the CommonJS packages
 * an ES-module app imports, without an ESM loader thread. (otelkit's zero-code bridges watch
 * `Module._load` themselves, see module-bridges.ts.)
 *
 * Node loads such a package's entry file through `Module._load(filename)` with no parent module,
 * not through `require()`, so require hooks never see it. This wraps `Module._load`: right after such
 * a load, the same file is required once more, which runs the hooks on it (patching in place, or
 * handing back replaced exports, which are put in the module's place before Node reads its named
 * exports). Node's built-in `http` and `https` are required here too, and the ES-module views of
 * built-ins synced, so `import http from 'node:http'` gets the patched module.
 *
 * @returns a function that removes the wrapper (if nobody wrapped it since).
 */
export function hookCommonJsLoadedFromEsm(): () => void {
  const internals = Module as unknown as ModuleInternals;
  const original = internals._load;
  const load = function otelkitLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = original.call(this, request, parent, isMain);
    if (parent != null || isMain || typeof request !== 'string' || !isAbsolute(request) || !request.includes('node_modules')) return exports;
    try {
      const hooked = createRequire(request)(request) as unknown;
      const cached = internals._cache[request];
      if (cached !== undefined && hooked !== cached.exports) cached.exports = hooked;
      return hooked;
    } catch (error) {
      reportOnce('cjs-from-esm', `could not hand ${request} to the require hooks: ${describeError(error)}`);
      return exports;
    }
  };
  internals._load = load;

  const require = createRequire(import.meta.url);
  for (const builtin of ['node:http', 'node:https']) {
    try {
      require(builtin);
    } catch (error) {
      reportOnce(`cjs-from-esm.${builtin}`, `could not patch ${builtin}: ${describeError(error)}`);
    }
  }
  syncBuiltinESMExports();

  return () => {
    if (internals._load === load) internals._load = original;
  };
}
