import { dirname, join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// This file's directory and, when stack traces are source-mapped (tests, --enable-source-maps), `src/`;
// and @otelkit/core's package, whose binding layer builds the subclasses that construct caches.
const OWN_DIR = dirname(fileURLToPath(import.meta.url));
const OWN_DIRS = [`${OWN_DIR}${sep}`, `${join(OWN_DIR, '..', 'src')}${sep}`, ...corePackageDir()];

function corePackageDir(): string[] {
  try {
    // @otelkit/core's entry is <package>/bundle/index.js (or dist/): its package directory is two up.
    return [`${dirname(dirname(createRequire(import.meta.url).resolve('@otelkit/core')))}${sep}`];
  } catch {
    return [];
  }
}
const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?$/;
const NODE_MODULES = `${sep}node_modules${sep}`;

/** Where a cache was created, for naming it in zero-code mode. @internal */
export interface CreationSite {
  /** `path/relative/to/cwd.js:line`. */
  readonly site: string;
  /** Whether the creating code lives in a dependency (under node_modules). */
  readonly inDependency: boolean;
}

/**
 * Finds the code that created a cache: the first stack frame outside this package, Node internals and
 * `skipPackages`, path prefixes under node_modules such as `lru-cache/` or `@keyv/` (the cache library
 * itself and its helper packages).
 * Runs at construction only.
 * @internal
 */
export function findCreationSite(skipPackages: readonly string[]): CreationSite | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 25;
  Error.captureStackTrace(holder, findCreationSite);
  Error.stackTraceLimit = limit;
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    const match = FRAME.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    let file = match[1];
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || !file.includes(sep) || OWN_DIRS.some((dir) => file.startsWith(dir))) continue;
    const inDependency = file.includes(NODE_MODULES);
    if (inDependency && skipPackages.some((prefix) => file.includes(`${NODE_MODULES}${prefix.split('/').join(sep)}`)))
      continue;
    return { site: `${relative(process.cwd(), file).split(sep).join('/')}:${match[2]}`, inDependency };
  }
  return undefined;
}
