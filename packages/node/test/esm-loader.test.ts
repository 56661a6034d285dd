import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODULE_BRIDGES } from '@otelkit/node';
import { needsEsmLoader } from '../src/esm-loader.js';

/** An app folder with this package.json and an entry file of this name; returns the entry's path. */
function app(packageJson: object, entry: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'otelkit-esm-'));
  writeFileSync(join(folder, 'package.json'), JSON.stringify(packageJson));
  writeFileSync(join(folder, entry), '');
  return join(folder, entry);
}

describe('when the preload registers the ESM loader hook', () => {
  it('auto: for an ES-module entry that depends on a library bridged as an ES module', () => {
    expect(needsEsmLoader('auto', app({ type: 'module', dependencies: { 'lru-cache': '^11' } }, 'main.js'), BUILTIN_MODULE_BRIDGES)).toBe(true);
    expect(needsEsmLoader('auto', app({ devDependencies: { keyv: '^5' } }, 'main.mjs'), BUILTIN_MODULE_BRIDGES)).toBe(true);
  });

  it('auto: not for CommonJS entries, nor for ES-module apps whose bridged libraries are CommonJS', () => {
    expect(needsEsmLoader('auto', app({ dependencies: { 'lru-cache': '^11' } }, 'main.js'), BUILTIN_MODULE_BRIDGES)).toBe(false);
    expect(needsEsmLoader('auto', app({ type: 'module', dependencies: { 'lru-cache': '^11' } }, 'main.cjs'), BUILTIN_MODULE_BRIDGES)).toBe(false);
    expect(needsEsmLoader('auto', app({ type: 'module', dependencies: { pg: '^8', express: '^5', opossum: '^9' } }, 'main.js'), BUILTIN_MODULE_BRIDGES)).toBe(false);
    expect(needsEsmLoader('auto', undefined, BUILTIN_MODULE_BRIDGES)).toBe(false);
  });

  it('auto: not when the bridge that would need it is turned off', () => {
    const entry = app({ type: 'module', dependencies: { 'lru-cache': '^11' } }, 'main.js');
    expect(needsEsmLoader('auto', entry, BUILTIN_MODULE_BRIDGES.filter((bridge) => bridge.name !== 'lru-cache'))).toBe(false);
  });

  it('always and never override the guess', () => {
    const entry = app({ dependencies: {} }, 'main.cjs');
    expect(needsEsmLoader('always', entry, [])).toBe(true);
    expect(needsEsmLoader('never', app({ type: 'module', dependencies: { 'lru-cache': '^11' } }, 'main.js'), BUILTIN_MODULE_BRIDGES)).toBe(false);
  });
});

describe('version ranges of zero-code bridges', () => {
  it('match as semver does for the comparators bridges use', async () => {
    const { satisfiesRange } = await import('../src/module-bridges.js');
    expect(satisfiesRange('8.13.0', '>=8 <9')).toBe(true);
    expect(satisfiesRange('9.0.0', '>=8 <9')).toBe(false);
    expect(satisfiesRange('6.15.0', '>=6.15 <8')).toBe(true);
    expect(satisfiesRange('6.14.9', '>=6.15 <8')).toBe(false);
    expect(satisfiesRange('7.99.1', '>=6.15 <8')).toBe(true);
    expect(satisfiesRange('8.0.0-rc.1', '>=8 <9')).toBe(false);
    expect(satisfiesRange('10.2.0', '>=10 <12')).toBe(true);
    expect(satisfiesRange('1.2.3', '=1.2.3')).toBe(true);
    expect(satisfiesRange('1.2.3', 'nonsense')).toBe(false);
  });
});
