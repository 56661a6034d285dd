/**
 * Shadows `target[key]` with an own property built from the current method, and returns a
 * restore function. Used only where a library has no event for the moment we must time (pg,
 * mysql2 and generic-pool have no "acquire requested" event). The wrapper never changes what the
 * method does or returns; on restore, if someone wrapped over ours meanwhile, ours stays in place
 * as a pass-through (the returned `restore` turns it off) rather than breaking their wrapper.
 */
export function wrapMethod<F extends (...args: never[]) => unknown>(
  target: object,
  key: string,
  makeWrapper: (original: F, isActive: () => boolean) => F,
): () => void {
  const holder = target as Record<string, unknown>;
  const original = holder[key] as F;
  const ownDescriptor = Object.getOwnPropertyDescriptor(target, key);
  let active = true;
  const wrapper = makeWrapper(original, () => active);
  Object.defineProperty(target, key, { value: wrapper, writable: true, configurable: true, enumerable: false });
  return () => {
    active = false;
    if (holder[key] !== wrapper) return;
    if (ownDescriptor) Object.defineProperty(target, key, ownDescriptor);
    else delete holder[key];
  };
}
