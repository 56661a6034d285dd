// Bundles the ES modules tsc wrote for @otelkit/core and @otelkit/node into a few files per
// package (their `exports` point there; types stay tsc's). Why: Node resolves and loads every ES
// module file on its own, and at start-up the preload's ~50 small files cost about 20 ms on a
// 2-core machine; bundled, it loads a handful. Entry points share chunks (code splitting), so module
// state (the running SDK, the health registry, the metric store) exists once per process.
// Dependencies stay external: one copy of each OpenTelemetry package, resolved as usual.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = {
  // package folder: entry modules of dist/ (public entries, and modules loaded by a relative path at run time)
  core: ['index'],
  node: ['index', 'register', 'span-export', 'resource', 'metrics'],
};

for (const [folder, entries] of Object.entries(packages)) {
  const dir = join(root, 'packages', folder);
  rmSync(join(dir, 'bundle'), { recursive: true, force: true });
  await build({
    entryPoints: entries.map((entry) => join(dir, 'dist', `${entry}.js`)),
    outdir: join(dir, 'bundle'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    chunkNames: 'chunk-[hash]',
  });
}
