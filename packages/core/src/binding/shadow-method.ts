/**
 * Shadows `target[key]` with an own property built from the current method (own or inherited) and
 * returns the function that restores exactly what was there: the previous own property's descriptor,
 * or no own property at all. The one way bridges hook an instance's method where a library has no
 * event for the moment they must see (a pool acquire, a cache get, a breaker's refusal).
 *
 * The wrapper must never change what the method does or returns. If someone wrapped over ours in
 * the meantime, restoring leaves their wrapper alone and ours stays under it as a pass-through
 * (`isActive()` turns false, so it stops counting).
 *
 * @param makeWrapper builds the wrapper from the original method and an `isActive` check
 * @param options `keepEnumerable`: the wrapper is enumerable when the previous own property was (or
 *   there was none); by default it is not enumerable
 */
export function shadowMethod<F extends (...args: never[]) => unknown>(
  target: object,
  key: string,
  makeWrapper: (original: F, isActive: () => boolean) => F,
  options: { keepEnumerable?: boolean } = {},
): () => void {
  const holder = target as Record<string, unknown>;
  const original = holder[key] as F;
  const previous = Object.getOwnPropertyDescriptor(target, key);
  let active = true;
  const wrapper = makeWrapper(original, () => active);
  const enumerable = options.keepEnumerable ? (previous?.enumerable ?? true) : false;
  Object.defineProperty(target, key, { value: wrapper, writable: true, configurable: true, enumerable });
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    active = false;
    if (Object.getOwnPropertyDescriptor(target, key)?.value !== wrapper) return;
    if (previous) Object.defineProperty(target, key, previous);
    else delete holder[key];
  };
}
