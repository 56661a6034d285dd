import { createRequire } from 'node:module';
import type CircuitBreakerType from 'opossum';
import { beforeAll, describe, expect, it } from 'vitest';
import { circuitBreakerModuleBridges, instrumentOpossum, patchOpossum } from '../src/index.js';
import type { TestReader } from '../../core/test/metric-reader.js';
import { pointValue, setUpTelemetry, uniqueName } from './helpers.js';

const require = createRequire(import.meta.url);
const CircuitBreaker = require('opossum') as typeof CircuitBreakerType;

let reader: TestReader;
beforeAll(() => {
  ({ reader } = setUpTelemetry());
});

describe('opossum zero-code bridge', () => {
  it('is described for the preload: opossum, on by default', () => {
    expect(circuitBreakerModuleBridges.map((b) => [b.name, b.moduleName, b.enabledByDefault])).toEqual([['opossum', 'opossum', true]]);
  });

  it('returns a subclass that binds every new breaker under its name option (CommonJS exports)', async () => {
    const bridge = circuitBreakerModuleBridges[0]!;
    const Patched = bridge.patch(CircuitBreaker, '9.0.0') as typeof CircuitBreakerType;
    expect(Patched).not.toBe(CircuitBreaker);
    expect(Patched.name).toBe('CircuitBreaker');
    expect(Patched.isOurError).toBe(CircuitBreaker.isOurError);
    expect(bridge.patch(Patched, '9.0.0')).toBe(Patched);

    const name = uniqueName('zero-code');
    const breaker = new Patched(async () => 'ok', { name });
    expect(breaker).toBeInstanceOf(CircuitBreaker);
    expect(breaker).toBeInstanceOf(Patched);
    expect(await breaker.fire()).toBe('ok');
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'success' })).toBe(1);
    breaker.shutdown();
  });

  it('an explicit bind with options replaces the zero-code binding: the explicit name and recordDuration win', async () => {
    const Patched = circuitBreakerModuleBridges[0]!.patch(CircuitBreaker, '9.0.0') as typeof CircuitBreakerType;
    const automaticName = uniqueName('zero-code-auto');
    const explicitName = uniqueName('zero-code-explicit');
    const breaker = new Patched(async () => 'ok', { name: automaticName });
    const handle = instrumentOpossum(breaker, { name: explicitName, recordDuration: false });
    expect(handle.name).toBe(explicitName);
    await breaker.fire();
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': explicitName, 'circuit_breaker.outcome': 'success' })).toBe(1);
    const durations = await reader.metric('circuit_breaker.call.duration');
    expect((durations?.dataPoints ?? []).some((p) => p.attributes['circuit_breaker.name'] === explicitName)).toBe(false);
    // A second explicit call returns that handle.
    expect(instrumentOpossum(breaker, { name: 'another' })).toBe(handle);
    breaker.shutdown();
  });

  it('leaves a breaker with no name (which opossum would name with a random UUID) unbridged', async () => {
    const Patched = circuitBreakerModuleBridges[0]!.patch(CircuitBreaker, '9.0.0') as typeof CircuitBreakerType;
    const before = ((await reader.metric('circuit_breaker.calls'))?.dataPoints ?? []).length;
    const anonymous = new Patched(async () => 'ok');
    expect(await anonymous.fire()).toBe('ok');
    expect(((await reader.metric('circuit_breaker.calls'))?.dataPoints ?? []).length).toBe(before);
    async function namedAction(): Promise<string> {
      return 'ok';
    }
    const byAction = new Patched(namedAction);
    await byAction.fire();
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': 'namedAction', 'circuit_breaker.outcome': 'success' })).toBe(1);
    anonymous.shutdown();
    byAction.shutdown();
  });

  it('unpatch stops binding new breakers, and gives an ES-module namespace opossum\'s class back', async () => {
    const bridge = circuitBreakerModuleBridges[0]!;
    const Patched = bridge.patch(CircuitBreaker, '9.0.0') as typeof CircuitBreakerType;
    const namespace: { default: unknown } = { default: CircuitBreaker };
    bridge.patch(namespace, '9.0.0');
    expect(namespace.default).not.toBe(CircuitBreaker);
    bridge.unpatch?.(namespace);
    expect(namespace.default).toBe(CircuitBreaker);
    const name = uniqueName('after-unpatch');
    const breaker = new Patched(async () => 'ok', { name });
    await breaker.fire();
    expect(pointValue(await reader.metric('circuit_breaker.calls'), { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'success' })).toBeUndefined();
    breaker.shutdown();
    // Patching again turns it back on.
    bridge.patch(CircuitBreaker, '9.0.0');
  });

  it('replaces default on an ESM-like namespace, and leaves unexpected shapes alone', () => {
    const namespace: { default: unknown } = { default: CircuitBreaker };
    expect(patchOpossum(namespace)).toBe(namespace);
    expect(namespace.default).not.toBe(CircuitBreaker);
    expect((namespace.default as { name: string }).name).toBe('CircuitBreaker');
    const frozen = Object.freeze({ default: CircuitBreaker });
    expect(() => patchOpossum(frozen)).not.toThrow();
    expect(frozen.default).toBe(CircuitBreaker);
    for (const odd of [null, undefined, 42, 'opossum', {}]) expect(patchOpossum(odd)).toBe(odd);
  });
});
