import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  bulkhead,
  handleType,
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { beforeAll, describe, expect, it } from 'vitest';
import { instrumentCockatiel, RETRY_EVENT, STATE_CHANGE_EVENT, TIMEOUT_EVENT } from '../src/index.js';
import type { TestReader } from '../../core/test/metric-reader.js';
import { histogramCount, pointsFor, pointValue, setUpTelemetry, uniqueName } from './helpers.js';

let reader: TestReader;
let exporter: InMemorySpanExporter;
beforeAll(() => {
  ({ reader, exporter } = setUpTelemetry());
});

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.constructor.name }),
  );
const ok = async () => 'ok';
const fail = async (): Promise<string> => {
  throw new Error('downstream down');
};

describe('instrumentCockatiel', () => {
  it('counts refused calls as rejected with a span event, passes the error through, and restores execute on unbind', async () => {
    const name = uniqueName('cockatiel-refused');
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
    const handle = instrumentCockatiel(breaker, { name });
    expect(Object.prototype.hasOwnProperty.call(breaker, 'execute')).toBe(true);
    await settle(breaker.execute(fail));
    const tracer = trace.getTracer('test');
    const refusal = await tracer.startActiveSpan('request', async (span) => {
      const result = await settle(breaker.execute(ok));
      span.end();
      return result;
    });
    expect(refusal).toEqual({ error: 'BrokenCircuitError' });
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'rejected' })).toBe(1);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'request' && s.events.some((e) => e.attributes?.['circuit_breaker.name'] === name));
    expect(span?.events.map((e) => e.name)).toContain('circuit_breaker.rejected');
    handle.unbind();
    expect(Object.prototype.hasOwnProperty.call(breaker, 'execute')).toBe(false);
  });

  it("does not take an inner breaker's refusal for its own", async () => {
    const innerName = uniqueName('cockatiel-inner');
    const outerName = uniqueName('cockatiel-outer');
    const inner = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
    const outer = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(100) });
    const innerHandle = instrumentCockatiel(inner, { name: innerName });
    const outerHandle = instrumentCockatiel(outer, { name: outerName });
    await settle(inner.execute(fail)); // inner opens
    for (let i = 0; i < 3; i++) expect(await settle(outer.execute(() => inner.execute(ok)))).toEqual({ error: 'BrokenCircuitError' });
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': innerName, 'circuit_breaker.outcome': 'rejected' })).toBe(3);
    expect(pointValue(calls, { 'circuit_breaker.name': outerName, 'circuit_breaker.outcome': 'rejected' })).toBe(0);
    expect(pointValue(calls, { 'circuit_breaker.name': outerName, 'circuit_breaker.outcome': 'failure' })).toBe(3);
    innerHandle.unbind();
    outerHandle.unbind();
  });

  it('does not count errors the policy does not handle (the breaker ignores them too)', async () => {
    class Handled extends Error {}
    const name = uniqueName('cockatiel-unhandled');
    const breaker = circuitBreaker(handleType(Handled), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(5) });
    const handle = instrumentCockatiel(breaker, { name });
    const unhandled = await settle(breaker.execute(fail));
    expect(unhandled).toEqual({ error: 'Error' });
    await settle(breaker.execute(async () => { throw new Handled('x'); }));
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'failure' })).toBe(1);
    const consecutive = await reader.metric('circuit_breaker.consecutive_failures');
    expect(pointValue(consecutive, { 'circuit_breaker.name': name })).toBe(1);
    handle.unbind();
  });

  it('follows closed -> open -> half_open -> closed, then isolated, with every metric', async () => {
    const name = uniqueName('cockatiel-cycle');
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 30, breaker: new ConsecutiveBreaker(2) });
    const handle = instrumentCockatiel(breaker, { name });
    expect(await settle(breaker.execute(ok))).toEqual({ value: 'ok' });
    expect(await settle(breaker.execute(fail))).toEqual({ error: 'Error' });
    expect(await settle(breaker.execute(fail))).toEqual({ error: 'Error' });
    expect(handle.state).toBe('open');
    expect(await settle(breaker.execute(ok))).toEqual({ error: 'BrokenCircuitError' });
    expect(pointValue(await reader.metric('circuit_breaker.consecutive_failures'), { 'circuit_breaker.name': name })).toBe(2);
    await sleep(60); // past halfOpenAfter: the next call is the half-open test call
    expect(await settle(breaker.execute(ok))).toEqual({ value: 'ok' });
    expect(handle.state).toBe('closed');

    const byName = { 'circuit_breaker.name': name };
    const metrics = await reader.metrics();
    const get = (n: string) => metrics.find((m) => m.descriptor.name === n);
    const calls = get('circuit_breaker.calls');
    const outcome = (o: string) => pointValue(calls, { ...byName, 'circuit_breaker.outcome': o });
    expect([outcome('success'), outcome('failure'), outcome('timeout')]).toEqual([2, 2, 0]);
    // The refused call while open counts as rejected; cockatiel breakers have no fallback: left out, not faked.
    expect(outcome('rejected')).toBe(1);
    expect(outcome('fallback')).toBeUndefined();
    const transition = (from: string, to: string) =>
      pointValue(get('circuit_breaker.transitions'), { ...byName, 'circuit_breaker.transition.from': from, 'circuit_breaker.transition.to': to });
    expect([transition('closed', 'open'), transition('open', 'half_open'), transition('half_open', 'closed')]).toEqual([1, 1, 1]);
    expect(histogramCount(get('circuit_breaker.call.duration'), { ...byName, 'circuit_breaker.outcome': 'success' })).toBe(2);
    expect(pointValue(get('circuit_breaker.consecutive_failures'), byName)).toBe(0);

    const isolation = breaker.isolate();
    const state = await reader.metric('circuit_breaker.state');
    expect(pointsFor(state, name).map((a) => a['circuit_breaker.state']).sort()).toEqual(['closed', 'half_open', 'isolated', 'open']);
    expect(pointValue(state, { ...byName, 'circuit_breaker.state': 'isolated' })).toBe(1);
    expect(pointValue(state, { ...byName, 'circuit_breaker.state': 'closed' })).toBe(0);
    isolation.dispose();
    expect(handle.state).toBe('closed');
    const after = await reader.metric('circuit_breaker.transitions');
    const again = (from: string, to: string) =>
      pointValue(after, { ...byName, 'circuit_breaker.transition.from': from, 'circuit_breaker.transition.to': to });
    expect([again('closed', 'isolated'), again('isolated', 'closed')]).toEqual([1, 1]);
    handle.unbind();
  });

  it('counts a cockatiel timeout as timeout; bulkhead rejections as rejected; retries as span events', async () => {
    const name = uniqueName('cockatiel-policies');
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(100) });
    const timeoutPolicy = timeout(50, TimeoutStrategy.Aggressive);
    const limit = bulkhead(1, 0);
    const retryPolicy = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(1) });
    instrumentCockatiel(breaker, { name, bulkhead: limit, timeout: timeoutPolicy, retry: retryPolicy });
    const policy = wrap(limit, retryPolicy, breaker, timeoutPolicy);
    await trace.getTracer('test').startActiveSpan('slow request', async (span) => {
      expect(await settle(policy.execute(() => sleep(1_000)))).toEqual({ error: 'TaskCancelledError' });
      span.end();
    });
    let release = (): void => {};
    const first = policy.execute(() => new Promise<void>((resolve) => (release = resolve)));
    expect(await settle(policy.execute(ok))).toEqual({ error: 'BulkheadRejectedError' });
    release();
    await first;

    const calls = await reader.metric('circuit_breaker.calls');
    const outcome = (o: string) => pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': o });
    expect([outcome('success'), outcome('failure'), outcome('timeout'), outcome('rejected')]).toEqual([1, 0, 2, 1]);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'slow request');
    expect(span?.events.filter((e) => e.name === TIMEOUT_EVENT)).toHaveLength(2);
    expect(span?.events.find((e) => e.name === RETRY_EVENT)?.attributes).toMatchObject({ 'circuit_breaker.name': name, 'retry.attempt': 1 });
  });

  it('adds the opening as a span event on the active span', async () => {
    const name = uniqueName('cockatiel-span');
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
    instrumentCockatiel(breaker, { name });
    await trace.getTracer('test').startActiveSpan('failing request', async (span) => {
      await settle(breaker.execute(fail));
      span.end();
    });
    const span = exporter.getFinishedSpans().find((s) => s.name === 'failing request');
    expect(span?.events.find((e) => e.name === STATE_CHANGE_EVENT)?.attributes).toEqual({
      'circuit_breaker.name': name,
      'circuit_breaker.transition.from': 'closed',
      'circuit_breaker.transition.to': 'open',
    });
  });

  it('unbind disposes every subscription; bad arguments get a no-op handle', async () => {
    const name = uniqueName('cockatiel-unbind');
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
    const emitters = breaker as unknown as Record<string, { size: number }>;
    const sizes = () => ['breakEmitter', 'resetEmitter', 'halfOpenEmitter', 'stateChangeEmitter'].map((k) => emitters[k]?.size);
    const before = sizes();
    const handle = instrumentCockatiel(breaker, { name });
    expect(instrumentCockatiel(breaker, { name })).toBe(handle);
    expect(sizes()).not.toEqual(before);
    handle.unbind();
    expect(sizes()).toEqual(before);
    await settle(breaker.execute(ok));
    expect(pointsFor(await reader.metric('circuit_breaker.calls'), name)).toEqual([]);
    expect(instrumentCockatiel(null as never, { name }).bound).toBe(false);
    expect(instrumentCockatiel(breaker, {} as never).bound).toBe(false);
  });
});

describe('a cockatiel policy that cannot be wrapped', () => {
  it('a frozen policy gets a no-op handle, nothing thrown, and its name stays free', async () => {
    const name = uniqueName('frozen-policy');
    const frozen = Object.freeze(circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) }));
    let handle: ReturnType<typeof instrumentCockatiel> | undefined;
    expect(() => (handle = instrumentCockatiel(frozen, { name }))).not.toThrow();
    expect(handle!.bound).toBe(false);
    const other = instrumentCockatiel(circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) }), { name });
    expect(other.name).toBe(name);
    other.unbind();
  });
});
