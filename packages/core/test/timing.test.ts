import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createOperationTimer, errorTypeOf } from '@otelkit/core';
import { createTestMeterProvider } from './metric-reader.js';

class QueryTimeoutError extends Error {}

function setup() {
  const { provider, reader } = createTestMeterProvider();
  const timer = createOperationTimer({ type: 'db', meter: provider.getMeter('test') });
  const points = async () =>
    ((await reader.metric('operation.duration')) as HistogramMetricData | undefined)?.dataPoints ?? [];
  return { timer, points };
}


describe('operation timer', () => {
  it('times a sync function and returns its result', async () => {
    const { timer, points } = setup();
    expect(timer.measure('users.count', () => 42)).toBe(42);
    const [point] = await points();
    expect(point?.attributes).toEqual({
      'operation.name': 'users.count',
      'operation.type': 'db',
      'operation.outcome': 'success',
    });
    expect(point?.value.count).toBe(1);
  });

  it('rethrows the same error of a sync function and records error.type', async () => {
    const { timer, points } = setup();
    const error = new QueryTimeoutError('slow');
    expect(() => timer.measure('users.find', () => { throw error; })).toThrow(error);
    const [point] = await points();
    expect(point?.attributes['operation.outcome']).toBe('error');
    expect(point?.attributes['error.type']).toBe('QueryTimeoutError');
  });

  it('times an async function until it settles and hands back the same promise', async () => {
    const { timer, points } = setup();
    const promise = Promise.resolve('row');
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 30));
    expect(timer.measure('a', () => promise)).toBe(promise);
    await expect(timer.measure('b', slow)).resolves.toBe('late');
    const b = (await points()).find((p) => p.attributes['operation.name'] === 'b');
    expect(b?.value.sum).toBeGreaterThanOrEqual(0.025);
  });

  it('passes a rejection through unchanged and causes no unhandled rejection of its own', async () => {
    const { timer, points } = setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const error = new TypeError('bad');
    await expect(timer.measure('c', async () => { throw error; })).rejects.toBe(error);
    await new Promise((resolve) => setTimeout(resolve, 10));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect((await points())[0]?.attributes['error.type']).toBe('TypeError');
  });

  it('times manual start/stop once, however often stop is called', async () => {
    const { timer, points } = setup();
    const stop = timer.start('job.import', { 'job.queue': 'default' });
    stop();
    stop(new Error('late'));
    const [point] = await points();
    expect(point?.value.count).toBe(1);
    expect(point?.attributes['operation.outcome']).toBe('success');
    expect(point?.attributes['job.queue']).toBe('default');
  });

  it('never throws when recording fails', () => {
    const broken = createOperationTimer({
      meter: { createHistogram() { throw new Error('meter is broken'); } } as never,
    });
    expect(broken.measure('x', () => 'ok')).toBe('ok');
    expect(() => broken.start('y')()).not.toThrow();
  });

  it('names error types, _OTHER for non-errors', () => {
    expect(errorTypeOf(new RangeError('x'))).toBe('RangeError');
    expect(errorTypeOf('a string')).toBe('_OTHER');
    expect(errorTypeOf(undefined)).toBe('_OTHER');
  });
});

describe('diagnostics', () => {
  it('never throw, even through a diag logger that throws', async () => {
    const { diag, DiagLogLevel } = await import('@opentelemetry/api');
    const { contain, reportOnce } = await import('@otelkit/core');
    const throwing = () => {
      throw new Error('logger broke');
    };
    diag.setLogger({ error: throwing, warn: throwing, info: throwing, debug: throwing, verbose: throwing }, DiagLogLevel.WARN);
    try {
      expect(() => reportOnce('diag-test', 'hello')).not.toThrow();
      expect(() => contain('diag-test-2', () => { throw new Error('ours'); })()).not.toThrow();
    } finally {
      diag.disable();
    }
  });
});
