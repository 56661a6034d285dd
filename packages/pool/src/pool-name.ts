const unnamed = new Map<string, number>();

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
 * A name for a pool that carries no address: the library name, then `library#2`, `library#3`, …
 * so two unnamed pools of one process never share a series.
 */
export function fallbackPoolName(library: string): string {
  const count = (unnamed.get(library) ?? 0) + 1;
  unnamed.set(library, count);
  return count === 1 ? library : `${library}#${count}`;
}

/** The explicit name if given, else the derived one, else the fallback. */
export function choosePoolName(explicit: string | undefined, derived: () => string | undefined, library: string): string {
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  let name: string | undefined;
  try {
    name = derived();
  } catch {
    name = undefined;
  }
  return name ?? fallbackPoolName(library);
}
