import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { timed } from '@otelkit/core';
import { createTestMeterProvider } from './metric-reader.js';

// @timed compiled for real by TypeScript 5: standard (TC39) decorators, and legacy ones
// (experimentalDecorators), on a class whose methods are sync, async, throwing and rejecting.

const SOURCE = `
export class QueryTimeoutError extends Error {}
export function makeUsers(timed: any, meter: any) {
  class Users {
    prefix = 'user-';
    @timed('users.name', { type: 'db', meter })
    name(id: number) { return this.prefix + id; }
    @timed('users.find', { type: 'db', meter })
    async find(id: number) { await new Promise((r) => setTimeout(r, 20)); return { id, name: this.prefix + id }; }
    @timed('users.fail', { type: 'db', meter })
    fail() { throw new QueryTimeoutError('slow'); }
    @timed('users.reject', { type: 'db', meter, attributes: { shard: 'a' } })
    async reject() { throw new TypeError('bad'); }
  }
  return new Users();
}
export function makePlain() {
  class Users {
    prefix = 'user-';
    name(id: number) { return this.prefix + id; }
    async find(id: number) { await new Promise((r) => setTimeout(r, 20)); return { id, name: this.prefix + id }; }
  }
  return new Users();
}
`;

const dir = mkdtempSync(join(tmpdir(), 'otelkit-timed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function compile(experimentalDecorators: boolean): Promise<{ makeUsers: (timedFn: typeof timed, meter: unknown) => Users; makePlain: () => Users; QueryTimeoutError: new () => Error }> {
  const { outputText, diagnostics } = ts.transpileModule(SOURCE, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, experimentalDecorators },
    reportDiagnostics: true,
  });
  expect(diagnostics ?? []).toEqual([]);
  // Standard decorators are lowered by TypeScript (Node 20 has no decorator syntax): the helper is in the output.
  expect(outputText).toContain(experimentalDecorators ? '__decorate' : '__esDecorate');
  const file = join(dir, `users-${experimentalDecorators ? 'legacy' : 'standard'}.mjs`);
  writeFileSync(file, outputText);
  return import(pathToFileURL(file).href);
}

type Users = { prefix: string; name(id: number): string; find(id: number): Promise<{ id: number; name: string }>; fail(): never; reject(): Promise<never> };

for (const experimentalDecorators of [false, true]) {
  describe(`@timed (${experimentalDecorators ? 'experimentalDecorators' : 'standard decorators'})`, () => {
    it('times sync, async, throwing and rejecting methods, with this, results and errors untouched', async () => {
      const module = await compile(experimentalDecorators);
      const { provider, reader } = createTestMeterProvider();
      const users = module.makeUsers(timed, provider.getMeter('test'));
      const plain = module.makePlain();

      expect(users.name(7)).toBe('user-7');
      expect(users.name(7)).toBe(plain.name(7));
      const found = users.find(3);
      expect(found).toBeInstanceOf(Promise);
      expect(await found).toEqual(await plain.find(3));
      expect(() => users.fail()).toThrow(module.QueryTimeoutError);
      const rejected = users.reject();
      await expect(rejected).rejects.toThrow(TypeError);

      const points = ((await reader.metric('operation.duration')) as HistogramMetricData).dataPoints;
      const byName = Object.fromEntries(points.map((point) => [point.attributes['operation.name'], point]));
      expect(byName['users.name']?.attributes).toEqual({ 'operation.name': 'users.name', 'operation.type': 'db', 'operation.outcome': 'success' });
      expect(byName['users.name']?.value.count).toBe(2);
      expect(byName['users.find']?.value.sum).toBeGreaterThanOrEqual(0.015);
      expect(byName['users.fail']?.attributes).toMatchObject({ 'operation.outcome': 'error', 'error.type': 'QueryTimeoutError' });
      expect(byName['users.reject']?.attributes).toMatchObject({ 'operation.outcome': 'error', 'error.type': 'TypeError', shard: 'a' });
    });
  });
}

describe('@timed on something that is not a method', () => {
  it('leaves it as it was', () => {
    const field = timed('x') as unknown as (value: undefined, context: { kind: 'field' }) => unknown;
    expect(field(undefined, { kind: 'field' })).toBeUndefined();
  });
});

describe('@timed keeps what other decorators put on the method', () => {
  it('copies the name and own properties (and reflect-metadata, where loaded) to the wrapper; a legacy property decorator leaves the property alone', () => {
    const original = function find(): string {
      return 'found';
    };
    Object.defineProperty(original, 'path', { value: '/users/:id', enumerable: true });
    const descriptor = timed('users.find')({}, 'find', { value: original, writable: true, configurable: true, enumerable: false });
    const wrapped = descriptor.value as typeof original & { path?: string };
    expect(wrapped).not.toBe(original);
    expect(wrapped.name).toBe('find');
    expect(wrapped.path).toBe('/users/:id');
    expect(wrapped()).toBe('found');
    const onProperty = timed('x') as unknown as (target: object, key: string) => unknown;
    expect(onProperty({}, 'field')).toBeUndefined();
  });
});
