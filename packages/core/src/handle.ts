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
 * is swallowed (and passed to `onError` if given) so unbinding never breaks the caller.
 */
export function createHandle(release: () => void, onError?: (error: unknown) => void): BridgeHandle {
  let bound = true;
  const unbind = (): void => {
    if (!bound) return;
    bound = false;
    try {
      release();
    } catch (error) {
      onError?.(error);
    }
  };
  return {
    get bound() {
      return bound;
    },
    unbind,
    [Symbol.dispose]: unbind,
  };
}

/** A handle that is not bound to anything: what a bridge returns for a bad argument. */
export function noopHandle(): BridgeHandle {
  return { bound: false, unbind() {}, [Symbol.dispose]() {} };
}
