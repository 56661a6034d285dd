import { nameClaims } from '@otelkit/core';

/** Pool names: the one identity rule of every bridge (see `nameClaims` in @otelkit/core). */
const poolNames = nameClaims('pool', 'poolName');

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

/** Reserves `wanted` (or the first free `wanted#N`) for a bound pool; see `nameClaims`. */
export function claimPoolName(wanted: string, collisionIsExpected = false): string {
  return poolNames.claim(wanted, { collisionExpected: collisionIsExpected });
}

/** Runs a bind; if it throws, the names it claimed are freed. */
export function withNameClaims<T>(bind: () => T): T {
  return poolNames.withClaims(bind);
}

/** Frees a name taken with {@link claimPoolName}. */
export function releasePoolName(name: string): void {
  poolNames.release(name);
}

/**
 * A function that frees `name`, made here so that it holds nothing but the name: a closure made
 * inside a bridge function would share that function's context, and with it the pool.
 */
export function poolNameReleaser(name: string): () => void {
  return () => poolNames.release(name);
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
