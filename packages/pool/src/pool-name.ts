import { reportOnce } from '@otelkit/core';

/** Names of the pools bound now: two bound pools never report under one name. */
const inUse = new Set<string>();

/**
 * The semantic-convention default pool name, `server.address:server.port/db.namespace`, from
 * whichever parts are known; undefined when none is.
 */
export function databasePoolName(host: unknown, port: unknown, database: unknown): string | undefined {
  const address = typeof host === 'string' && host !== '' ? host : undefined;
  const portText = typeof port === 'number' || (typeof port === 'string' && port !== '') ? String(port) : undefined;
  const namespace = typeof database === 'string' && database !== '' ? database : undefined;
  if (address === undefined && namespace === undefined) return undefined;
  let name = address ?? '';
  if (portText !== undefined) name += `:${portText}`;
  if (namespace !== undefined) name += `/${namespace}`;
  return name;
}

/**
 * Reserves `wanted` for a bound pool, or, when another bound pool holds it, the first free `wanted#2`,
 * `wanted#3`, … (with one diagnostic, since two pools to one database under one name would overwrite
 * each other's gauges). Names are freed by {@link releasePoolName} on unbind and reused, so pools
 * created and dropped on the fly do not grow the number of series.
 */
export function claimPoolName(wanted: string, collisionIsExpected = false): string {
  let name = wanted;
  for (let n = 2; inUse.has(name); n++) name = `${wanted}#${n}`;
  if (name !== wanted && !collisionIsExpected) {
    reportOnce(`pool.name-collision.${wanted}`, `two bound pools are named "${wanted}"; the second reports as "${name}" (pass poolName to choose)`);
  }
  inUse.add(name);
  claimsInProgress?.push(name);
  return name;
}

let claimsInProgress: string[] | undefined;

/**
 * Runs a bind, and if it throws, releases every name it claimed before rethrowing, so a failed bind
 * leaves no name taken.
 */
export function withNameClaims<T>(bind: () => T): T {
  const outer = claimsInProgress;
  const mine: string[] = [];
  claimsInProgress = mine;
  try {
    return bind();
  } catch (error) {
    for (const name of mine) inUse.delete(name);
    throw error;
  } finally {
    claimsInProgress = outer;
    outer?.push(...mine);
  }
}

/** Frees a name taken with {@link claimPoolName}. */
export function releasePoolName(name: string): void {
  inUse.delete(name);
}

/**
 * The explicit name if given, else the derived one, else the library name; reserved with
 * {@link claimPoolName}, so it is unique among bound pools (release it on unbind).
 */
export function choosePoolName(explicit: string | undefined, derived: () => string | undefined, library: string): string {
  if (typeof explicit === 'string' && explicit !== '') return claimPoolName(explicit);
  let name: string | undefined;
  try {
    name = derived();
  } catch {
    name = undefined;
  }
  // Unnamed pools of one library are expected to share the library name: no diagnostic for them.
  return name === undefined ? claimPoolName(library, true) : claimPoolName(name);
}
