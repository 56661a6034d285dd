import type { BridgeHandle } from '../handle.js';

/** Handles made by zero-code binding (inside {@link bindAutomatically}). */
const automatic = new WeakSet<object>();
let automaticDepth = 0;

/**
 * Runs a zero-code bind: handles made inside (see {@link noteNewBinding}) are automatic, so an
 * explicit call of the app's can replace them.
 */
export function bindAutomatically<T>(bind: () => T): T {
  automaticDepth++;
  try {
    return bind();
  } finally {
    automaticDepth--;
  }
}

/** Records a handle a bridge just made: automatic when made inside {@link bindAutomatically}. */
export function noteNewBinding<H extends object>(handle: H): H {
  if (automaticDepth > 0) automatic.add(handle);
  return handle;
}

/**
 * The one bind-once rule of every bridge, for a target that may be bound already:
 * - not bound (or unbound since): undefined, bind it;
 * - bound by the zero-code bridge, and this is an explicit call that asks for something else
 *   (`explicitReplaces`): that binding is unbound and undefined returned, so the explicit options win;
 * - otherwise the live handle, so binding twice is harmless and never double-counts.
 */
export function reuseBinding<H extends BridgeHandle>(existing: H | undefined, explicitReplaces: (existing: H) => boolean): H | undefined {
  if (existing === undefined || !existing.bound) return undefined;
  if (automaticDepth > 0 || !automatic.has(existing)) return existing;
  if (!explicitReplaces(existing)) {
    // The app now holds this handle: it is the app's, and no later explicit call may unbind it.
    automatic.delete(existing);
    return existing;
  }
  existing.unbind();
  return undefined;
}
