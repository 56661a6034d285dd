import { reportOnce } from '../diagnostics.js';

/**
 * The one identity rule of every bridge: two live targets (pools, caches, breakers) never report
 * under one name, or their series would overwrite each other (a batch callback per target with the
 * same attributes: the SDK keeps the last writer, and when one unbinds a counter can go down). The
 * first target bound under a name gets it; each further live one gets the first free `name#2`,
 * `name#3`, …, with one diagnostic per name (none where duplicates are expected, e.g. undici's
 * per-origin names). Names are released on unbind and reused, so targets created and dropped on the
 * fly do not grow the number of series.
 */
export interface NameClaims {
  /** Reserves `wanted`, or the first free `wanted#N`; returns the name to report under. */
  claim(wanted: string, options?: { collisionExpected?: boolean }): string;
  /** Frees a name returned by {@link NameClaims.claim}. */
  release(name: string): void;
  /** Runs a bind; if it throws, every name it claimed is released before the error goes on. */
  withClaims<T>(bind: () => T): T;
}

type Registry = { inUse: Set<string>; inProgress: string[][] };

const REGISTRIES_KEY = Symbol.for('otelkit.name-claims.v1');

/** The process's registry for a family of targets (shared by every copy of `@otelkit/core`). */
function registry(family: string): Registry {
  const holder = globalThis as { [REGISTRIES_KEY]?: Map<string, Registry> };
  const registries = (holder[REGISTRIES_KEY] ??= new Map());
  let found = registries.get(family);
  if (found === undefined) registries.set(family, (found = { inUse: new Set(), inProgress: [] }));
  return found;
}

/**
 * The name claims of a family of targets, e.g. `nameClaims('pool', 'poolName')`.
 * @param family what the targets are, for the diagnostic ("two bound pools are named …")
 * @param option the bridge option that chooses a name, for the diagnostic
 */
export function nameClaims(family: string, option: string): NameClaims {
  const { inUse, inProgress } = registry(family);
  return {
    claim(wanted, options = {}) {
      let name = wanted;
      for (let n = 2; inUse.has(name); n++) name = `${wanted}#${n}`;
      if (name !== wanted && !options.collisionExpected) {
        reportOnce(
          `${family}.name-collision.${wanted}`,
          `two bound ${family}s are named "${wanted}"; the second reports as "${name}" (pass ${option} to choose)`,
        );
      }
      inUse.add(name);
      inProgress[inProgress.length - 1]?.push(name);
      return name;
    },
    release(name) {
      inUse.delete(name);
    },
    withClaims(bind) {
      const mine: string[] = [];
      inProgress.push(mine);
      try {
        return bind();
      } catch (error) {
        for (const name of mine) inUse.delete(name);
        throw error;
      } finally {
        inProgress.pop();
        inProgress[inProgress.length - 1]?.push(...mine);
      }
    },
  };
}
