import { context, metrics, trace, type Meter, type MeterProvider, type Span } from '@opentelemetry/api';
import type { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { instrumentOpossum } from '../src/index.js';
import { setUpTelemetry } from './helpers.js';
import { prng } from '../../../test-support/prng.js';

const EVENTS = ['fire', 'success', 'failure', 'timeout', 'reject', 'open', 'close', 'halfOpen', 'fallback', 'semaphoreLocked'] as const;
type Kind = 'success' | 'failure' | 'timeout' | 'wait';


function sequence(seed: number, length: number): Kind[] {
  const random = prng(seed);
  const kinds: Kind[] = ['success', 'success', 'failure', 'failure', 'timeout', 'wait'];
  return Array.from({ length }, () => kinds[Math.floor(random() * kinds.length)] as Kind);
}

const action = (kind: Kind, step: number): Promise<string> => {
  if (kind === 'failure') return Promise.reject(new Error(`failed ${step}`));
  if (kind === 'timeout') return new Promise((resolve) => setTimeout(() => resolve(`late ${step}`), 1_000));
  return Promise.resolve(`ok ${step}`);
};

interface Run {
  breaker: CircuitBreaker<[Kind, number], string>;
  log: string[];
  results: string[];
}

/** A breaker with the user's own listeners on every event, registered before and after `bind`. */
function makeRun(bind: (breaker: CircuitBreaker<[Kind, number], string>) => void, withFallback: boolean): Run {
  const log: string[] = [];
  const breaker = new CircuitBreaker(action, {
    timeout: 50,
    resetTimeout: 500,
    errorThresholdPercentage: 40,
    volumeThreshold: 3,
    rollingCountTimeout: 2_000,
    capacity: 10,
  });
  if (withFallback) breaker.fallback((kind: Kind, step: number) => (step % 3 === 0 ? Promise.reject(new Error('fallback failed')) : `fallback ${kind}`));
  const emitter = breaker as unknown as EventEmitter;
  for (const event of EVENTS) emitter.on(event, () => log.push(`before:${event}`));
  bind(breaker);
  for (const event of EVENTS) emitter.on(event, () => log.push(`after:${event}`));
  return { breaker, log, results: [] };
}

const describeState = (breaker: CircuitBreaker<[Kind, number], string>) => {
  const { successes, failures, timeouts, rejects, fallbacks, fires } = breaker.stats;
  return { opened: breaker.opened, halfOpen: breaker.halfOpen, closed: breaker.closed, successes, failures, timeouts, rejects, fallbacks, fires };
};

/** Drives `runs` in lockstep on a fake clock through `kinds`, recording what each caller saw. */
async function drive(runs: Run[], kinds: Kind[]): Promise<void> {
  for (const [step, kind] of kinds.entries()) {
    if (kind === 'wait') {
      await vi.advanceTimersByTimeAsync(600);
      continue;
    }
    const pending = runs.map((run) =>
      run.breaker.fire(kind, step).then(
        (value) => run.results.push(`value:${value}`),
        (error: Error & { code?: string }) => run.results.push(`error:${error.code ?? ''}:${error.message}`),
      ),
    );
    await vi.advanceTimersByTimeAsync(kind === 'timeout' ? 60 : 0);
    await Promise.all(pending);
  }
}

/** A MeterProvider whose instruments throw on every use, and a span whose addEvent throws. */
function throwingTelemetry(): { provider: MeterProvider; span: Span } {
  const explode = (): never => {
    throw new Error('recorder exploded');
  };
  const instrument = { record: explode, add: explode, addCallback: explode, removeCallback: explode };
  const meter = new Proxy({} as Meter, {
    get: (_target, property) =>
      property === 'addBatchObservableCallback' || property === 'removeBatchObservableCallback'
        ? () => undefined
        : () => instrument,
  });
  const span = new Proxy({} as Span, {
    get: (_target, property) => (property === 'isRecording' ? () => true : explode),
  });
  return { provider: { getMeter: () => meter }, span };
}

describe('opossum outcome equality with and without the bridge', () => {
  beforeEach(() => {
    setUpTelemetry();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => vi.useRealTimers());

  for (const seed of [1, 7, 42]) {
    for (const withFallback of [false, true]) {
      it(`seed ${seed}, fallback ${withFallback}: same results, event order and final state`, async () => {
        const kinds = sequence(seed, 120);
        const bare = makeRun(() => {}, withFallback);
        const bridged = makeRun((breaker) => instrumentOpossum(breaker, { name: `safety-${seed}-${withFallback}` }), withFallback);
        await drive([bare, bridged], kinds);
        expect(bridged.results).toEqual(bare.results);
        expect(bridged.log).toEqual(bare.log);
        expect(describeState(bridged.breaker)).toEqual(describeState(bare.breaker));
        // The sequence really went through every transition, or the comparison proves little.
        for (const event of ['open', 'halfOpen', 'close', 'reject', 'timeout', 'success', 'failure'])
          expect(bare.log, event).toContain(`before:${event}`);
        bare.breaker.shutdown();
        bridged.breaker.shutdown();
      });
    }
  }

  it('a recorder and span that throw on every call change nothing', async () => {
    const { provider, span } = throwingTelemetry();
    metrics.disable();
    metrics.setGlobalMeterProvider(provider);
    const kinds = sequence(99, 120);
    const bare = makeRun(() => {}, true);
    const bridged = makeRun((breaker) => instrumentOpossum(breaker, { name: 'throwing' }), true);
    await context.with(trace.setSpan(context.active(), span), () => drive([bare, bridged], kinds));
    expect(bridged.results).toEqual(bare.results);
    expect(bridged.log).toEqual(bare.log);
    expect(describeState(bridged.breaker)).toEqual(describeState(bare.breaker));
    expect(bare.results.some((result) => result.startsWith('value:ok'))).toBe(true);
    expect(bare.log).toContain('before:reject');
    bare.breaker.shutdown();
    bridged.breaker.shutdown();
  });
});
