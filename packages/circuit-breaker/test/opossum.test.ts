import { once } from 'node:events';
import { trace } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { breakerReadinessCheck, instrumentOpossum, REJECTED_EVENT, STATE_CHANGE_EVENT } from '../src/index.js';
import type { TestReader } from '../../core/test/metric-reader.js';
import { histogramCount, pointsFor, pointValue, setUpTelemetry, uniqueName } from './helpers.js';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

let reader: TestReader;
let exporter: InMemorySpanExporter;
const breakers: CircuitBreaker[] = [];

beforeAll(() => {
  ({ reader, exporter } = setUpTelemetry());
});
afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
});

/** A breaker around an action whose behaviour each call picks: succeed, fail, or hang for `ms`. */
function flakyBreaker(options: CircuitBreaker.Options) {
  let mode: 'ok' | 'fail' | 'slow' = 'ok';
  const action = async (): Promise<string> => {
    if (mode === 'fail') throw new Error('downstream down');
    if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 200));
    return 'ok';
  };
  const breaker = new CircuitBreaker(action, options);
  breakers.push(breaker);
  return { breaker, set: (next: typeof mode) => (mode = next) };
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: { code?: string; message: string }) => ({ error: error.code ?? error.message }),
  );

describe('instrumentOpossum', () => {
  it('two live breakers with one name never share a series: the second reports as name#2', async () => {
    const name = uniqueName('tenant');
    const first = flakyBreaker({ name, timeout: false });
    const second = flakyBreaker({ name, timeout: false });
    const firstHandle = instrumentOpossum(first.breaker);
    const secondHandle = instrumentOpossum(second.breaker);
    expect(firstHandle.name).toBe(name);
    expect(secondHandle.name).toBe(`${name}#2`);
    for (let i = 0; i < 3; i++) await first.breaker.fire();
    for (let i = 0; i < 2; i++) await second.breaker.fire();
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'success' })).toBe(3);
    expect(pointValue(calls, { 'circuit_breaker.name': `${name}#2`, 'circuit_breaker.outcome': 'success' })).toBe(2);
    // One breaker going away takes nothing from the other's counts.
    firstHandle.unbind();
    await second.breaker.fire();
    expect(pointValue(await reader.metric('circuit_breaker.calls'), { 'circuit_breaker.name': `${name}#2`, 'circuit_breaker.outcome': 'success' })).toBe(3);
    // Readiness by the name asked for covers both.
    expect(await breakerReadinessCheck(name)()).toMatchObject({ ready: true });
    secondHandle.unbind();
  });

  it('follows closed -> open -> half_open -> closed and reports every metric', async () => {
    const name = uniqueName('cycle');
    const { breaker, set } = flakyBreaker({ name, errorThresholdPercentage: 50, volumeThreshold: 1, resetTimeout: 50, timeout: false });
    const handle = instrumentOpossum(breaker);
    expect(handle.bound).toBe(true);
    expect(handle.name).toBe(name);
    const before = Date.now() / 1000;

    expect(await settle(breaker.fire())).toEqual({ value: 'ok' });
    set('fail');
    expect(await settle(breaker.fire())).toEqual({ error: 'downstream down' });
    expect(await settle(breaker.fire())).toEqual({ error: 'downstream down' });
    expect(breaker.opened).toBe(true);
    expect(handle.state).toBe('open');
    expect(await settle(breaker.fire())).toEqual({ error: 'EOPENBREAKER' });

    const state = await reader.metric('circuit_breaker.state');
    expect(pointValue(state, { 'circuit_breaker.name': name, 'circuit_breaker.state': 'open' })).toBe(1);
    expect(pointValue(state, { 'circuit_breaker.name': name, 'circuit_breaker.state': 'closed' })).toBe(0);
    expect(pointValue(await reader.metric('circuit_breaker.consecutive_failures'), { 'circuit_breaker.name': name })).toBe(2);

    const halfOpen = once(breaker, 'halfOpen');
    await halfOpen;
    expect(handle.state).toBe('half_open');
    set('ok');
    expect(await settle(breaker.fire())).toEqual({ value: 'ok' });
    expect(breaker.closed).toBe(true);
    const after = Date.now() / 1000;

    const metrics = await reader.metrics();
    const get = (n: string) => metrics.find((m) => m.descriptor.name === n);
    const byName = { 'circuit_breaker.name': name };
    expect(pointsFor(get('circuit_breaker.state'), name).map((a) => a['circuit_breaker.state']).sort()).toEqual(['closed', 'half_open', 'open']);
    expect(pointValue(get('circuit_breaker.state'), { ...byName, 'circuit_breaker.state': 'closed' })).toBe(1);
    expect(pointValue(get('circuit_breaker.state'), { ...byName, 'circuit_breaker.state': 'open' })).toBe(0);
    expect(pointValue(get('circuit_breaker.state'), { ...byName, 'circuit_breaker.state': 'half_open' })).toBe(0);
    expect(get('circuit_breaker.state')?.descriptor.unit).toBe('{state}');

    const calls = get('circuit_breaker.calls');
    expect(calls?.descriptor.unit).toBe('{call}');
    const outcome = (o: string) => pointValue(calls, { ...byName, 'circuit_breaker.outcome': o });
    expect([outcome('success'), outcome('failure'), outcome('timeout'), outcome('rejected'), outcome('fallback')]).toEqual([2, 2, 0, 1, 0]);

    const transitions = get('circuit_breaker.transitions');
    const transition = (from: string, to: string) =>
      pointValue(transitions, { ...byName, 'circuit_breaker.transition.from': from, 'circuit_breaker.transition.to': to });
    expect([transition('closed', 'open'), transition('open', 'half_open'), transition('half_open', 'closed')]).toEqual([1, 1, 1]);
    expect(pointsFor(transitions, name)).toHaveLength(3);

    expect(pointValue(get('circuit_breaker.consecutive_failures'), byName)).toBe(0);
    const last = pointValue(get('circuit_breaker.last_transition.time'), byName) ?? 0;
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(after);

    const duration = get('circuit_breaker.call.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(histogramCount(duration, { ...byName, 'circuit_breaker.outcome': 'success' })).toBe(2);
    expect(histogramCount(duration, { ...byName, 'circuit_breaker.outcome': 'failure' })).toBe(2);
    expect(histogramCount(duration, { ...byName, 'circuit_breaker.outcome': 'rejected' })).toBeUndefined();
  });

  it('counts a timeout once (not also as a failure), and fallbacks in addition', async () => {
    const name = uniqueName('timeout');
    const { breaker, set } = flakyBreaker({ name, timeout: 20, volumeThreshold: 100 });
    breaker.fallback(() => 'cached');
    instrumentOpossum(breaker);
    set('slow');
    expect(await settle(breaker.fire())).toEqual({ value: 'cached' });
    set('fail');
    expect(await settle(breaker.fire())).toEqual({ value: 'cached' });
    const calls = await reader.metric('circuit_breaker.calls');
    const outcome = (o: string) => pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': o });
    expect([outcome('success'), outcome('failure'), outcome('timeout'), outcome('fallback')]).toEqual([0, 1, 1, 2]);
    expect(pointValue(await reader.metric('circuit_breaker.consecutive_failures'), { 'circuit_breaker.name': name })).toBe(2);
  });

  it('counts a full semaphore as rejected', async () => {
    const name = uniqueName('semaphore');
    const { breaker, set } = flakyBreaker({ name, capacity: 1, volumeThreshold: 100 });
    instrumentOpossum(breaker);
    set('slow');
    const results = await Promise.all([settle(breaker.fire()), settle(breaker.fire())]);
    expect(results).toEqual([{ value: 'ok' }, { error: 'ESEMLOCKED' }]);
    const calls = await reader.metric('circuit_breaker.calls');
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'rejected' })).toBe(1);
    expect(pointValue(calls, { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'failure' })).toBe(0);
  });

  it('adds span events for the opening and for rejected calls on the active span', async () => {
    const name = uniqueName('spans');
    const { breaker, set } = flakyBreaker({ name, volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeout: 60_000 });
    instrumentOpossum(breaker);
    set('fail');
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('opening request', async (span) => {
      await settle(breaker.fire());
      span.end();
    });
    await tracer.startActiveSpan('rejected request', async (span) => {
      await settle(breaker.fire());
      span.end();
    });
    const spans = exporter.getFinishedSpans();
    const opening = spans.find((s) => s.name === 'opening request');
    const rejected = spans.find((s) => s.name === 'rejected request');
    const change = opening?.events.find((e) => e.name === STATE_CHANGE_EVENT);
    expect(change?.attributes).toEqual({
      'circuit_breaker.name': name,
      'circuit_breaker.transition.from': 'closed',
      'circuit_breaker.transition.to': 'open',
    });
    const reject = rejected?.events.find((e) => e.name === REJECTED_EVENT);
    expect(reject?.attributes).toEqual({ 'circuit_breaker.name': name, 'circuit_breaker.state': 'open' });
  });

  it('readiness: not ready while the named breaker is open', async () => {
    const name = uniqueName('ready');
    const { breaker, set } = flakyBreaker({ name, volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeout: 60_000 });
    const handle = instrumentOpossum(breaker);
    const byName = breakerReadinessCheck(name);
    const byHandle = breakerReadinessCheck(handle);
    expect(byName()).toMatchObject({ ready: true });
    set('fail');
    await settle(breaker.fire());
    expect(byName()).toEqual({ ready: false, detail: `circuit breaker "${name}" is open` });
    expect(byHandle()).toMatchObject({ ready: false });
    breaker.close();
    expect(byHandle()).toMatchObject({ ready: true });
    handle.unbind();
    expect(byName()).toEqual({ ready: true, detail: 'no bound circuit breaker' });
  });

  it('unbind removes every listener and stops reporting; binding twice returns the same handle', async () => {
    const name = uniqueName('unbind');
    const { breaker } = flakyBreaker({ name });
    const events = breaker.eventNames();
    const countsBefore = events.map((event) => breaker.listenerCount(event));
    const handle = instrumentOpossum(breaker);
    expect(instrumentOpossum(breaker)).toBe(handle);
    expect(breaker.listenerCount('success')).toBe(countsBefore[events.indexOf('success')]! + 1);
    expect(breaker.listenerCount('reject')).toBe(countsBefore[events.indexOf('reject')]! + 1);
    handle.unbind();
    handle.unbind();
    expect(handle.bound).toBe(false);
    expect(breaker.eventNames()).toEqual(events);
    expect(events.map((event) => breaker.listenerCount(event))).toEqual(countsBefore);
    expect(pointsFor(await reader.metric('circuit_breaker.state'), name)).toEqual([]);
    expect(instrumentOpossum(breaker)).not.toBe(handle);
  });

  it('shutdown() of the breaker unbinds it', async () => {
    const name = uniqueName('shutdown');
    const { breaker } = flakyBreaker({ name });
    const handle = instrumentOpossum(breaker);
    breaker.shutdown();
    expect(handle.bound).toBe(false);
    expect(pointsFor(await reader.metric('circuit_breaker.calls'), name)).toEqual([]);
  });

  it('recordDuration: false keeps the counts and skips the histogram', async () => {
    const name = uniqueName('no-duration');
    const { breaker } = flakyBreaker({ name });
    instrumentOpossum(breaker, { recordDuration: false });
    await breaker.fire();
    const byName = { 'circuit_breaker.name': name, 'circuit_breaker.outcome': 'success' };
    expect(pointValue(await reader.metric('circuit_breaker.calls'), byName)).toBe(1);
    expect(histogramCount(await reader.metric('circuit_breaker.call.duration'), byName)).toBeUndefined();
  });

  it('gives a no-op handle for bad arguments', () => {
    for (const bad of [null, undefined, 42, {}, { on() {} }]) {
      const handle = instrumentOpossum(bad as never);
      expect(handle.bound).toBe(false);
      expect(() => handle.unbind()).not.toThrow();
    }
    const { breaker } = flakyBreaker({});
    expect(instrumentOpossum(breaker, { name: '' }).bound).toBe(false);
  });
});
