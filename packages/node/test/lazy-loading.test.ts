import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cacheModuleBridges } from '@otelkit/cache';
import { cacheZeroCodeBridges } from '@otelkit/cache/zero-code';
import { circuitBreakerModuleBridges } from '@otelkit/circuit-breaker';
import { circuitBreakerZeroCodeBridges } from '@otelkit/circuit-breaker/zero-code';
import type { ModuleBridge } from '@otelkit/core';
import { poolModuleBridges } from '@otelkit/pool';
import { poolZeroCodeBridges } from '@otelkit/pool/zero-code';
import { FIXTURES } from './support.js';

const run = promisify(execFile);

/** Runs the fixture under the preload and returns what it reports as loaded. */
async function loadedUnderPreload(env: Record<string, string>): Promise<Record<string, number>> {
  const { stdout } = await run(process.execPath, ['--import', '@otelkit/node/register', join(FIXTURES, 'loaded-modules.mjs')], {
    cwd: FIXTURES,
    // The fixtures' package.json lists lru-cache: without `never`, the ESM loader (and with it
    // instrumentation-express, at once) would be on.
    env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTELKIT_ESM_LOADER: 'never', ...env },
  });
  const line = /LOADED (.*)/.exec(stdout);
  if (!line) throw new Error(`no LOADED line in: ${stdout}`);
  return JSON.parse(line[1]!) as Record<string, number>;
}

describe('start-up loads only what the process uses', () => {
  it('loads no bridge code and no trace SDK for an app that uses none of them', async () => {
    expect(await loadedUnderPreload({})).toEqual({ poolBridge: 0, cacheBridge: 0, breakerBridge: 0, traceSdk: 0, expressInstrumentation: 0, httpInstrumentation: 0 });
  });

  it('loads the pool bridge once the app loads pg, and nothing else', async () => {
    const loaded = await loadedUnderPreload({ LOAD_PG: '1' });
    expect(loaded.poolBridge).toBeGreaterThan(0);
    expect(loaded).toMatchObject({ cacheBridge: 0, breakerBridge: 0, traceSdk: 0 });
  });

  it('loads the trace SDK and client spans only when spans are exported', async () => {
    const loaded = await loadedUnderPreload({ OTEL_TRACES_EXPORTER: 'console' });
    expect(loaded.traceSdk).toBeGreaterThan(0);
    expect(loaded.httpInstrumentation).toBeGreaterThan(0);
    expect(loaded.expressInstrumentation).toBe(0);
  });

  it('loads instrumentation-express when the app loads express, and not the trace SDK', async () => {
    const loaded = await loadedUnderPreload({ LOAD_EXPRESS: '1' });
    expect(loaded.expressInstrumentation).toBeGreaterThan(0);
    expect(loaded).toMatchObject({ traceSdk: 0, httpInstrumentation: 0, poolBridge: 0 });
  });
});

describe('zero-code descriptions loaded at start', () => {
  const describe = (bridges: readonly ModuleBridge[]) =>
    bridges.map(({ name, moduleName, supportedVersions, enabledByDefault }) => ({ name, moduleName, supportedVersions, on: enabledByDefault ?? true }));

  it('match the bridges their code defines, one for one', () => {
    expect(describe(poolZeroCodeBridges)).toEqual(describe(poolModuleBridges));
    expect(describe(cacheZeroCodeBridges)).toEqual(describe(cacheModuleBridges));
    expect(describe(circuitBreakerZeroCodeBridges)).toEqual(describe(circuitBreakerModuleBridges));
  });
});
