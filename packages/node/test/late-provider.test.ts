import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { instrumentLruCache } from '@otelkit/cache';
import { instrumentCustomBreaker } from '@otelkit/circuit-breaker';
import { instrumentPool } from '@otelkit/pool';

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }
}

function value(all: MetricData[], name: string, key: string, wanted: string): number | undefined {
  return all.find((m) => m.descriptor.name === name)?.dataPoints.find((p) => p.attributes[key] === wanted)?.value as number | undefined;
}

function install(): PullReader {
  const reader = new PullReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return reader;
}

// Bridges bound before any MeterProvider is set (a library set up at import time, before start()),
// or before the app replaces the provider, report to the provider in force.
describe('bridges bound before the meter provider', () => {
  it('report once a provider is set, and follow it when it is replaced', async () => {
    const cache = new LRUCache<string, string>({ max: 10 });
    const cacheHandle = instrumentLruCache(cache, { name: 'early-cache' });
    const breaker = instrumentCustomBreaker({ name: 'early-breaker' });
    const pool = { used: 2, idle: 3, pending: 0, max: 5 };
    const poolHandle = instrumentPool(pool, { poolName: 'early-pool' });
    cache.set('a', '1');
    breaker.recordCall('success');

    const first = install();
    let all = await first.metrics();
    expect(value(all, 'cache.puts', 'cache.name', 'early-cache')).toBe(1);
    expect(value(all, 'circuit_breaker.calls', 'circuit_breaker.name', 'early-breaker')).toBe(1);
    expect(value(all, 'db.client.connection.max', 'db.client.connection.pool.name', 'early-pool')).toBe(5);

    // The app replaces the provider: the bridges move to the new one.
    metrics.disable();
    const second = install();
    cache.set('b', '2');
    all = await second.metrics();
    expect(value(all, 'cache.puts', 'cache.name', 'early-cache')).toBe(2);
    expect(value(all, 'db.client.connection.max', 'db.client.connection.pool.name', 'early-pool')).toBe(5);

    cacheHandle.unbind();
    breaker.unbind();
    poolHandle.unbind();
    // Released for good: later activity is not read (the SDK repeats the last cumulative point).
    cache.set('c', '3');
    expect(value(await second.metrics(), 'cache.puts', 'cache.name', 'early-cache')).toBe(2);
  });
});
