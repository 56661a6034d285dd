import { describe, expect, it } from 'vitest';
import { bindAutomatically, handleWith, nameClaims, noteNewBinding, reuseBinding, shadowMethod } from '@otelkit/core';

describe('shadowMethod', () => {
  class Target {
    greet(name: string): string {
      return `hello ${name}`;
    }
  }

  it('wraps an inherited method with an own property and restores the instance exactly', () => {
    const target = new Target();
    const keys = Reflect.ownKeys(target);
    let calls = 0;
    const restore = shadowMethod<(name: string) => string>(target, 'greet', (original, isActive) => function (this: unknown, name: string) {
      if (isActive()) calls++;
      return original.call(this, name);
    });
    expect(target.greet('a')).toBe('hello a');
    expect(calls).toBe(1);
    expect(Object.keys(target)).toEqual([]); // not enumerable
    restore();
    expect(Reflect.ownKeys(target)).toEqual(keys);
    expect(target.greet('b')).toBe('hello b');
    restore(); // twice is harmless
  });

  it('restores a previous own property with its descriptor, and leaves a wrapper put over ours alone', () => {
    const target = new Target();
    const own = (name: string) => `own ${name}`;
    Object.defineProperty(target, 'greet', { value: own, writable: false, configurable: true, enumerable: true });
    const restore = shadowMethod<(name: string) => string>(target, 'greet', (original) => (name: string) => original(name), { keepEnumerable: true });
    expect(Object.keys(target)).toEqual(['greet']);
    restore();
    expect(Object.getOwnPropertyDescriptor(target, 'greet')).toEqual({ value: own, writable: false, configurable: true, enumerable: true });

    const other = new Target();
    let counted = 0;
    const restoreOurs = shadowMethod<(name: string) => string>(other, 'greet', (original, isActive) => (name: string) => {
      if (isActive()) counted++;
      return original.call(other, name);
    });
    const ours = other.greet;
    const theirs = (name: string) => `theirs ${ours.call(other, name)}`;
    other.greet = theirs;
    restoreOurs();
    expect(other.greet).toBe(theirs); // theirs stays
    expect(other.greet('c')).toBe('theirs hello c');
    expect(counted).toBe(0); // ours is a pass-through now
  });
});

describe('nameClaims', () => {
  it('gives each live target its own name, frees names on release, and frees a failed bind\'s claims', () => {
    const claims = nameClaims('test-family', 'name');
    expect(claims.claim('x')).toBe('x');
    expect(claims.claim('x')).toBe('x#2');
    expect(claims.claim('x')).toBe('x#3');
    claims.release('x#2');
    expect(claims.claim('x')).toBe('x#2');
    expect(() =>
      claims.withClaims(() => {
        claims.claim('y');
        throw new Error('bind failed');
      }),
    ).toThrow('bind failed');
    expect(claims.claim('y')).toBe('y');
  });
});

describe('the bind-once rule', () => {
  function fakeHandle() {
    let bound = true;
    return {
      get bound() {
        return bound;
      },
      unbind: () => {
        bound = false;
      },
      [Symbol.dispose]: () => {
        bound = false;
      },
    };
  }

  it('returns a live handle, lets an explicit call replace a zero-code one, never the other way round', () => {
    const explicit = noteNewBinding(fakeHandle());
    expect(reuseBinding(explicit, () => true)).toBe(explicit); // explicit handles are kept
    const automatic = bindAutomatically(() => noteNewBinding(fakeHandle()));
    expect(bindAutomatically(() => reuseBinding(automatic, () => true))).toBe(automatic); // zero-code never replaces
    expect(reuseBinding(automatic, () => true)).toBeUndefined(); // an explicit call with options replaces it
    expect(automatic.bound).toBe(false);
    expect(reuseBinding(automatic, () => true)).toBeUndefined(); // unbound: bind again

    // An explicit call asking nothing new adopts the zero-code handle: it is the app's from then on,
    // so a later explicit call with options cannot unbind the handle the app holds.
    const adopted = bindAutomatically(() => noteNewBinding(fakeHandle()));
    expect(reuseBinding(adopted, () => false)).toBe(adopted);
    expect(reuseBinding(adopted, () => true)).toBe(adopted);
    expect(adopted.bound).toBe(true);
  });
});

describe('handleWith', () => {
  it('adds a family\'s fields (getters too) to a handle whose unbind runs once and never throws', () => {
    let releases = 0;
    const handle = handleWith(
      () => {
        releases++;
        throw new Error('release broke');
      },
      {
        name: 'payments',
        get state() {
          return handle.bound ? 'open' : undefined;
        },
      },
    );
    expect(handle.name).toBe('payments');
    expect(handle.state).toBe('open');
    expect(() => handle.unbind()).not.toThrow();
    expect(() => handle[Symbol.dispose]()).not.toThrow();
    expect(releases).toBe(1);
    expect(handle.bound).toBe(false);
    expect(handle.state).toBeUndefined();
  });
});
