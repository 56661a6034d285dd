import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryPackage } from '@otelkit/node';

const root = mkdtempSync(join(tmpdir(), 'otelkit-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('service identity from the entry script', () => {
  it('takes name and version from the nearest package.json above the entry script', () => {
    mkdirSync(join(root, 'svc', 'dist', 'server'), { recursive: true });
    writeFileSync(join(root, 'svc', 'package.json'), JSON.stringify({ name: 'checkout', version: '2.1.0' }));
    expect(entryPackage(join(root, 'svc', 'dist', 'server', 'main.js'))).toEqual({ name: 'checkout', version: '2.1.0' });
  });

  it('says nothing for a launcher inside node_modules (pm2, ts-node-dev, a test runner)', () => {
    mkdirSync(join(root, 'app', 'node_modules', 'pm2', 'lib'), { recursive: true });
    writeFileSync(join(root, 'app', 'node_modules', 'pm2', 'package.json'), JSON.stringify({ name: 'pm2' }));
    expect(entryPackage(join(root, 'app', 'node_modules', 'pm2', 'lib', 'ProcessContainerFork.js'))).toBeUndefined();
  });

  it('says nothing without an entry script', () => {
    expect(entryPackage('')).toBeUndefined();
  });
});
