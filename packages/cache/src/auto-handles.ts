import type { BridgeHandle } from '@otelkit/core';

const automatic = new WeakSet<BridgeHandle>();

/** Marks a handle made by the zero-code mode, so an explicit `instrumentX()` call can replace it. @internal */
export function markAutomatic(handle: BridgeHandle): BridgeHandle {
  automatic.add(handle);
  return handle;
}

/**
 * The handle to return for a cache that is already bound, or undefined to bind it (again): an explicit
 * call replaces a zero-code binding (so it can rename the cache) and returns any other live handle.
 * @internal
 */
export function reuseHandle(existing: BridgeHandle | undefined): BridgeHandle | undefined {
  if (!existing?.bound) return undefined;
  if (!automatic.has(existing)) return existing;
  existing.unbind();
  return undefined;
}
