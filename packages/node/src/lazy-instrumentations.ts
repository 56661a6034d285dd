import { isAbsolute } from 'node:path';
import { moduleOfFile, watchModuleLoads } from './module-load.js';

/**
 * Runs `enable` once, just before the first CommonJS load of `packageName` (by `require`, or by an ES
 * module's import of it), so an instrumentation and its dependencies load only in processes that use
 * the package, yet early enough to hook the package's own files as they load.
 *
 * @returns a function that stops watching
 */
export function beforeFirstLoad(packageName: string, enable: () => void): () => void {
  let done = false;
  const unwatch = watchModuleLoads({
    name: `instrumentation of ${packageName}`,
    before({ request }) {
      if (done || typeof request !== 'string') return;
      if (request !== packageName && !(isAbsolute(request) && moduleOfFile(request)?.packageName === packageName)) return;
      done = true;
      enable();
    },
  });
  return unwatch;
}
