import { isAbsolute } from 'node:path';
import { moduleOfFile, watchModuleLoads, type ModuleLoad } from './module-load.js';

/**
 * Runs `enable` once, just before the first CommonJS load of `packageName` (by `require`, or by an ES
 * module's import of it), so an instrumentation and its dependencies load only in processes that use
 * the package, yet early enough to hook the package's own files as they load.
 *
 * @returns a function that stops watching
 */
export function beforeFirstLoad(packageName: string, enable: () => void): () => void {
  let done = false;
  let loading: ModuleLoad | undefined;
  const unwatch = watchModuleLoads({
    name: `instrumentation of ${packageName}`,
    before(load) {
      const { request } = load;
      if (done || typeof request !== 'string') return;
      if (request !== packageName && !(isAbsolute(request) && moduleOfFile(request)?.packageName === packageName)) return;
      done = true;
      loading = load;
      enable();
    },
    after(load, exports) {
      if (load !== loading) return undefined;
      loading = undefined;
      // This very require() entered Node before the instrumentation's require hook existed, so the
      // hook did not see it: require the package once more through the hook (Node's cache makes
      // that cheap) and hand the app what the hook made of it.
      const parent = load.parent as { require?: (request: string) => unknown } | null;
      if (typeof parent?.require !== 'function') return undefined;
      const hooked = parent.require(load.request);
      return hooked === exports ? undefined : hooked;
    },
  });
  return unwatch;
}
