import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { Pool as UndiciPool } from 'undici';
import { describe, expect, it } from 'vitest';
import { instrumentPg, instrumentPool, instrumentUndici } from '../src/index.js';
import { PG_CONNECTION, setUpPoolTelemetry } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setUpPoolTelemetry();

const collected = new Set<string>();
const watch = new FinalizationRegistry<string>((name) => collected.add(name));

/** Binds a pool made by `make` and keeps nothing that holds it. */
function bindAndDrop(name: string, make: () => object, bind: (pool: object, name: string) => { poolName: string }): string {
  const pool = make();
  const { poolName } = bind(pool, name);
  watch.register(pool, name);
  return poolName;
}

async function collect(name: string): Promise<void> {
  for (let i = 0; i < 50 && !collected.has(name); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // One more turn for otelkit's own finalizer, which frees the name.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('pools the app drops without ending them', () => {
  for (const [label, make, bind] of [
    ['pg', () => new pg.Pool({ ...PG_CONNECTION, max: 2 }), (pool: object, name: string) => instrumentPg(pool as pg.Pool, { poolName: name })],
    ['undici', () => new UndiciPool('http://127.0.0.1:9'), (pool: object, name: string) => instrumentUndici(pool as UndiciPool, { poolName: name })],
    ['custom', () => ({ used: 1, idle: 1, max: 2 }), (pool: object, name: string) => instrumentPool(pool, { poolName: name })],
  ] as const) {
    it(`${label}: is garbage-collected, and its name is free again`, async () => {
      const name = `dropped-${label}`;
      expect(bindAndDrop(name, make, bind)).toBe(name);
      await collect(name);
      expect(collected.has(name)).toBe(true);
      // The name went with it: a new pool gets it, not name#2.
      const next = make();
      const handle = bind(next, name) as { poolName: string; unbind(): void };
      expect(handle.poolName).toBe(name);
      handle.unbind();
    });
  }
});
