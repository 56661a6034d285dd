import { describeError, reportOnce } from './diagnostics.js';

/**
 * What every otelkit bridge hands back: `unbind()` removes each listener, hook and callback the
 * bridge added, is idempotent, and never throws. Also usable with `using` (Symbol.dispose).
 */
export interface BridgeHandle {
  /** Whether the bridge is bound and counting. */
  readonly bound: boolean;
  /** Removes everything the bridge added. Safe to call more than once. */
  unbind(): void;
  /** Same as `unbind()`, for `using handle = instrumentX(...)`. */
  [Symbol.dispose](): void;
}

/**
 * Makes a handle around `release`, which runs once, at the first `unbind()`; an exception it throws
 * never reaches the caller: it goes to `onError`, by default one diagnostic.
 */
export function createHandle(release: () => void, onError: (error: unknown) => void = reportUnbindFailure): BridgeHandle {
  return handleWith(release, {}, onError);
}

function reportUnbindFailure(error: unknown): void {
  reportOnce('bridge.unbind', `unbinding a bridge failed; what it added may stay in place: ${describeError(error)}`);
}

/**
 * A handle around `release` (as {@link createHandle}) with a bridge's own fields added: `extras`'
 * properties, getters included, are copied onto the handle, so a family's handle (a pool's name and
 * snapshot, a breaker's state) is built in one place.
 *
 * @example
 * const handle = handleWith(() => recorder.close(), { name, get state() { return handle.bound ? recorder.state : undefined; } });
 */
export function handleWith<E extends object>(release: () => void, extras: E, onError: (error: unknown) => void = reportUnbindFailure): BridgeHandle & E {
  let bound = true;
  const unbind = (): void => {
    if (!bound) return;
    bound = false;
    try {
      release();
    } catch (error) {
      try {
        onError(error);
      } catch {
        // a failing error handler must not reach the caller either
      }
    }
  };
  const handle = {
    get bound() {
      return bound;
    },
    unbind,
    [Symbol.dispose]: unbind,
  };
  Object.defineProperties(handle, Object.getOwnPropertyDescriptors(extras));
  return handle as BridgeHandle & E;
}

/** A handle that is not bound to anything: what a bridge returns for a bad argument. */
export function noopHandle(): BridgeHandle {
  return { bound: false, unbind() {}, [Symbol.dispose]() {} };
}
