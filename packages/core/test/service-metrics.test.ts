import { describe, expect, it } from 'vitest';
import { registerServiceMetrics, serviceResourceAttributes } from '@otelkit/core';
import { createTestMeterProvider } from './metric-reader.js';

describe('service metrics', () => {
  it('reports uptime in seconds at collection time and counts one start', async () => {
    const { provider, reader } = createTestMeterProvider();
    const handle = registerServiceMetrics({ meter: provider.getMeter('test'), startTimeMs: Date.now() - 5_000 });
    const uptime = (await reader.metric('process.uptime'))?.dataPoints[0]?.value as number;
    expect(uptime).toBeGreaterThanOrEqual(5);
    expect(uptime).toBeLessThan(60);
    expect((await reader.metric('process.uptime'))?.descriptor.unit).toBe('s');
    expect((await reader.metric('service.starts'))?.dataPoints[0]?.value).toBe(1);
    handle.unbind();
    const last = (await reader.metric('process.uptime'))?.dataPoints[0]?.value;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The SDK keeps a cumulative gauge's last point; what unbind stops is our callback.
    expect((await reader.metric('process.uptime'))?.dataPoints[0]?.value).toBe(last);
  });

  it('turns a service identity into semantic-convention resource attributes', () => {
    expect(serviceResourceAttributes({ name: 'checkout', version: '1.2.3', environment: 'prod', instanceId: 'i-1' })).toEqual({
      'service.name': 'checkout',
      'service.version': '1.2.3',
      'deployment.environment.name': 'prod',
      'service.instance.id': 'i-1',
    });
    expect(serviceResourceAttributes({ name: 'a' })).toEqual({ 'service.name': 'a' });
  });
});

describe('the otelkit meter', () => {
  it('contains whatever the underlying meter and its instruments throw', async () => {
    const { metrics } = await import('@opentelemetry/api');
    const { getOtelkitMeter } = await import('@otelkit/core');
    const explode = (): never => {
      throw new Error('meter exploded');
    };
    const broken = new Proxy({}, { get: (_t, property) => (String(property).startsWith('create') ? () => ({ record: explode, add: explode }) : explode) });
    metrics.disable();
    metrics.setGlobalMeterProvider({ getMeter: () => broken as never });
    try {
      const meter = getOtelkitMeter('@otelkit/test');
      expect(() => meter.createHistogram('h').record(1, { a: 'b' })).not.toThrow();
      expect(() => meter.createCounter('c').add(1)).not.toThrow();
      expect(() => meter.addBatchObservableCallback(() => {}, [])).not.toThrow();
      expect(() => meter.removeBatchObservableCallback(() => {}, [])).not.toThrow();
    } finally {
      metrics.disable();
    }
  });

  it('is one object per underlying meter, so per-meter caches of instruments keep working', async () => {
    const { provider } = createTestMeterProvider({ global: true });
    const { getOtelkitMeter } = await import('@otelkit/core');
    expect(getOtelkitMeter('@otelkit/same')).toBe(getOtelkitMeter('@otelkit/same'));
    expect(getOtelkitMeter('@otelkit/same')).not.toBe(getOtelkitMeter('@otelkit/other'));
    await provider.shutdown();
  });

  it('records through to the SDK unchanged', async () => {
    const { provider, reader } = createTestMeterProvider({ global: true });
    const { getOtelkitMeter } = await import('@otelkit/core');
    getOtelkitMeter('@otelkit/test').createHistogram('through', { unit: 's' }).record(0.5, { k: 'v' });
    const metric = await reader.metric('through');
    expect(metric?.dataPoints[0]?.attributes).toEqual({ k: 'v' });
    await provider.shutdown();
  });
});
