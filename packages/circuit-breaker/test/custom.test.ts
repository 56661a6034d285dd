import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { breakerReadinessCheck, instrumentCustomBreaker } from '../src/index.js';
import type { TestReader } from '../../core/test/metric-reader.js';
import { histogramCount, pointsFor, pointValue, setUpTelemetry, uniqueName } from './helpers.js';

let reader: TestReader;
beforeAll(() => {
  ({ reader } = setUpTelemetry());
});

describe('instrumentCustomBreaker', () => {
  it('reports what a hand-written breaker records', async () => {
    const name = uniqueName('custom');
    const handle = instrumentCustomBreaker({ name });
    const ready = breakerReadinessCheck(handle);
    handle.recordCall('success', 0.02);
    handle.recordCall('failure', 0.3);
    handle.recordCall('timeout', 1.5);
    handle.recordState('open');
    handle.recordState('open');
    handle.recordCall('rejected');
    handle.recordCall('fallback');
    expect(ready()).toEqual({ ready: false, detail: `circuit breaker "${name}" is open` });

    const byName = { 'circuit_breaker.name': name };
    const metrics = await reader.metrics();
    const get = (n: string) => metrics.find((m) => m.descriptor.name === n);
    const outcome = (o: string) => pointValue(get('circuit_breaker.calls'), { ...byName, 'circuit_breaker.outcome': o });
    expect(['success', 'failure', 'timeout', 'rejected', 'fallback'].map(outcome)).toEqual([1, 1, 1, 1, 1]);
    expect(pointValue(get('circuit_breaker.consecutive_failures'), byName)).toBe(2);
    expect(pointsFor(get('circuit_breaker.transitions'), name)).toEqual([
      { ...byName, 'circuit_breaker.transition.from': 'closed', 'circuit_breaker.transition.to': 'open' },
    ]);
    expect(pointValue(get('circuit_breaker.transitions'), byName)).toBe(1);
    expect(pointsFor(get('circuit_breaker.state'), name)).toHaveLength(3);
    expect(histogramCount(get('circuit_breaker.call.duration'), { ...byName, 'circuit_breaker.outcome': 'timeout' })).toBe(1);

    handle.unbind();
    handle.recordCall('success', 0.01);
    // The SDK keeps exporting an unbound breaker's last cumulative values; they must not change any more.
    expect(pointValue(await reader.metric('circuit_breaker.calls'), { ...byName, 'circuit_breaker.outcome': 'success' })).toBe(1);
    expect(handle.state).toBeUndefined();
  });

  it('ignores unknown states and outcomes, and bad options give a no-op handle', async () => {
    const name = uniqueName('custom-bad');
    const handle = instrumentCustomBreaker({ name, states: ['closed', 'open'] });
    expect(() => handle.recordState('half_open')).not.toThrow();
    expect(() => handle.recordCall('exploded' as never, 1)).not.toThrow();
    expect(handle.state).toBe('closed');
    expect(pointsFor(await reader.metric('circuit_breaker.state'), name)).toHaveLength(2);
    handle.unbind();
    for (const bad of [undefined, null, {}, { name: '' }, { name: 'x', states: ['weird'] }, { name: 'x', initialState: 'isolated' }]) {
      const noop = instrumentCustomBreaker(bad as never);
      expect(noop.bound).toBe(false);
      expect(() => noop.recordCall('success', 1)).not.toThrow();
    }
  });
});

describe('custom breaker failures', () => {
  beforeAll(() => {
    setUpTelemetry();
  });

  it('a failure while recording reaches neither the caller nor silence: one diagnostic each', () => {
    const lines: string[] = [];
    const push = (message: string) => lines.push(message);
    diag.setLogger({ error: push, warn: push, info: push, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    const name = uniqueName('custom-failing');
    const handle = instrumentCustomBreaker({ name });
    // An active span whose addEvent throws: the state change's span event fails.
    const throwing = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
    Object.assign(throwing, { isRecording: () => true, addEvent: () => { throw new Error('span broke'); } });
    context.with(trace.setSpan(context.active(), throwing), () => {
      expect(() => handle.recordState('open')).not.toThrow();
      expect(() => handle.recordState('closed')).not.toThrow();
    });
    expect(lines.filter((line) => line.includes(`"${name}": recording a state failed`))).toHaveLength(1);
    handle.unbind();
  });
});
