import { readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';

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
  let folder = dirname(entryScript);
  const { root } = parse(folder);
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (typeof json.name === 'string' && json.name !== '') {
        return { name: json.name, ...(typeof json.version === 'string' ? { version: json.version } : {}) };
      }
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (folder === root) return undefined;
    folder = dirname(folder);
  }
}
