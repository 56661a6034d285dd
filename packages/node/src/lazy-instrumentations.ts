import Module from 'node:module';
import { isAbsolute } from 'node:path';
import { describeError, reportOnce } from '@otelkit/core';
import { moduleOfFile } from './module-bridges.js';

type ModuleInternals = { _load: (request: string, parent: unknown, isMain: boolean) => unknown };

/**
 * Runs `enable` once, just before the first CommonJS load of `packageName` (by `require`, or by an ES
 * module's import of it), so an instrumentation and its dependencies load only in processes that use
 * the package, yet early enough to hook the package's own files as they load.
 *
 * @returns a function that removes the wrapper (if nobody wrapped `Module._load` since)
 */
export function beforeFirstLoad(packageName: string, enable: () => void): () => void {
  const internals = Module as unknown as ModuleInternals;
  const original = internals._load;
  let done = false;
  const load = function otelkitBeforeFirstLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (!done && typeof request === 'string' && (request === packageName || (isAbsolute(request) && moduleOfFile(request)?.packageName === packageName))) {
      done = true;
      try {
        enable();
      } catch (error) {
        reportOnce(`lazy.${packageName}`, `could not instrument ${packageName}: ${describeError(error)}`);
      }
    }
    return original.call(this, request, parent, isMain);
  };
  internals._load = load;
  return () => {
    if (internals._load === load) internals._load = original;
  };
}
