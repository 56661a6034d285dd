import { readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { describeError, reportOnce } from '@otelkit/core';

/**
 * The `name` and `version` of the package.json nearest to the app's entry script (`process.argv[1]`),
 * walking up from its folder; what `service.name` and `service.version` default to. Undefined when
 * there is no entry script (a REPL, `-e`), when it is a launcher inside node_modules, or when no
 * package.json is on the way up.
 */
export function entryPackage(entryScript: string | undefined = process.argv[1]): { name?: string; version?: string } | undefined {
  // A launcher's script (pm2, ts-node-dev, a test runner) lives in node_modules: its package is not the
  // service, so say nothing rather than name the service after the launcher.
  if (!entryScript || /[\\/]node_modules[\\/]/.test(entryScript)) return undefined;
  const json = nearestPackageJson(entryScript, (candidate) => typeof candidate.name === 'string' && candidate.name !== '');
  if (json === undefined) return undefined;
  return { name: json.name as string, ...(typeof json.version === 'string' ? { version: json.version } : {}) };
}

/**
 * The parsed package.json nearest to `file` walking up from its folder (what Node reads for
 * `"type"`), or the nearest one `accept` takes; undefined when none is on the way up.
 */
export function nearestPackageJson(file: string, accept: (json: Record<string, unknown>) => boolean = () => true): Record<string, unknown> | undefined {
  let folder = dirname(file);
  const { root } = parse(folder);
  for (;;) {
    const path = join(folder, 'package.json');
    try {
      const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      if (accept(json)) return json;
    } catch (error) {
      // None here: keep walking up. One that is there but unreadable or not JSON is said once.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') reportOnce(`package-json.${path}`, `could not read ${path} (${describeError(error)}); not taking the service name or version from it`);
    }
    if (folder === root) return undefined;
    folder = dirname(folder);
  }
}
