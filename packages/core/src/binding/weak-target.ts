/** A bound target held weakly; see {@link holdWeakly}. */
export interface WeakTarget<T extends object> {
  /** The target, or undefined once it was garbage-collected. */
  deref(): T | undefined;
  /** Stops watching (call on unbind): `onCollected` will not run. */
  release(): void;
}

const collected = new FinalizationRegistry<() => void>((onCollected) => {
  try {
    onCollected();
  } catch {
    // A cleanup of ours that fails leaves a stale registration at worst; nothing reaches the app.
  }
});

/**
 * Holds a bound target (a pool, a cache, a breaker) weakly, the one way bridges keep what they
 * observe: a target the app drops without closing it is still garbage-collected, and then
 * `onCollected` runs (as its own task, never inside a metrics collection) to release the binding's
 * callback and name. `onCollected` must not hold the target, nor be a closure made in a scope that
 * does (V8 closures share their function's context).
 */
export function holdWeakly<T extends object>(target: T, onCollected: () => void): WeakTarget<T> {
  const ref = new WeakRef(target);
  const token = {};
  collected.register(target, onCollected, token);
  return {
    deref: () => ref.deref(),
    release: () => collected.unregister(token),
  };
}
