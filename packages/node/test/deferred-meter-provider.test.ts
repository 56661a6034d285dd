import { MeterProvider, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../../core/test/metric-reader.js';
import { describe, expect, it } from 'vitest';
import { DeferredMeterProvider } from '../src/deferred-meter-provider.js';


function sdk(): { provider: MeterProvider; reader: TestReader } {
  const reader = new TestReader();
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}

const value = (metrics: MetricData[], name: string) => metrics.find((m) => m.descriptor.name === name)?.dataPoints[0]?.value;

describe('the deferred meter provider (global while the metrics SDK loads)', () => {
  it('hands instruments, callbacks and buffered measurements taken before the SDK to it', async () => {
    const deferred = new DeferredMeterProvider();
    const meter = deferred.getMeter('early', '1.0.0');
    const counter = meter.createCounter('early.count');
    const histogram = meter.createHistogram('early.duration', { unit: 's' });
    counter.add(2, { k: 'v' });
    histogram.record(0.5);
    meter.createObservableGauge('early.gauge').addCallback((result) => result.observe(7));
    const batchGauge = meter.createObservableUpDownCounter('early.batch');
    meter.addBatchObservableCallback((result) => result.observe(batchGauge, 3), [batchGauge]);

    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    counter.add(1, { k: 'v' });
    const metrics = await reader.metrics();
    expect(value(metrics, 'early.count')).toBe(3);
    expect((metrics.find((m) => m.descriptor.name === 'early.duration') as HistogramMetricData).dataPoints[0]?.value.count).toBe(1);
    expect(value(metrics, 'early.gauge')).toBe(7);
    expect(value(metrics, 'early.batch')).toBe(3);
  });

  it('passes straight through once the SDK is there, and removes callbacks on either side', async () => {
    const deferred = new DeferredMeterProvider();
    const early = deferred.getMeter('m');
    const gauge = early.createObservableGauge('removed.before');
    const callback = (result: { observe(value: number): void }) => result.observe(1);
    gauge.addCallback(callback);
    gauge.removeCallback(callback);
    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    const late = deferred.getMeter('m');
    late.createCounter('late.count').add(5);
    const batch = early.createObservableGauge('batch.after');
    let calls = 0;
    const batchCallback = (result: { observe(o: typeof batch, value: number): void }) => {
      calls++;
      result.observe(batch, 9);
    };
    early.addBatchObservableCallback(batchCallback, [batch]);
    let metrics = await reader.metrics();
    expect(calls).toBe(1);
    expect(value(metrics, 'late.count')).toBe(5);
    expect(value(metrics, 'batch.after')).toBe(9);
    expect(metrics.find((m) => m.descriptor.name === 'removed.before')?.dataPoints ?? []).toEqual([]);
    early.removeBatchObservableCallback(batchCallback, [batch]);
    const before = calls;
    metrics = await reader.metrics();
    expect(calls).toBe(before);
  });

  it('keeps at most 10,000 early measurements and counts the rest as dropped', async () => {
    const deferred = new DeferredMeterProvider();
    const counter = deferred.getMeter('m').createCounter('busy.count');
    for (let i = 0; i < 10_005; i++) counter.add(1);
    expect(deferred.dropped).toBe(5);
    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    expect(value(await reader.metrics(), 'busy.count')).toBe(10_000);
  });

  it('asks for the SDK once 1,000 early measurements wait', () => {
    let asked = 0;
    const deferred = new DeferredMeterProvider(() => asked++);
    const counter = deferred.getMeter('m').createCounter('busy.count');
    for (let i = 0; i < 999; i++) counter.add(1);
    expect(asked).toBe(0);
    for (let i = 0; i < 5000; i++) counter.add(1);
    expect(asked).toBe(1);
  });

  it('drops and counts values that are not finite numbers (a Symbol included) before and after the SDK loads, never throwing', async () => {
    const deferred = new DeferredMeterProvider();
    const meter = deferred.getMeter('m');
    const counter = meter.createCounter('checked.count');
    const histogram = meter.createHistogram('checked.duration');
    const record = () => {
      for (const bad of [NaN, Infinity, -1, Symbol('x') as unknown as number, Object.create(null) as number]) {
        counter.add(bad);
        histogram.record(bad);
      }
      counter.add(2);
      histogram.record(3);
    };
    expect(record).not.toThrow();
    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    expect(record).not.toThrow();
    const metrics = await reader.metrics();
    expect(value(metrics, 'checked.count')).toBe(4);
    const histogramPoint = metrics.find((m) => m.descriptor.name === 'checked.duration')!.dataPoints[0]!.value as { sum: number; count: number };
    expect(histogramPoint).toMatchObject({ sum: 6, count: 2 });
  });

  it('removes a batch callback added both before and after the SDK loaded, each with its own observables', async () => {
    const deferred = new DeferredMeterProvider();
    const meter = deferred.getMeter('m');
    const early = meter.createObservableGauge('early');
    let calls = 0;
    const callback = () => {
      calls++;
    };
    meter.addBatchObservableCallback(callback, [early]);
    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    const late = meter.createObservableGauge('late');
    meter.addBatchObservableCallback(callback, [late]);
    await reader.metrics();
    expect(calls).toBe(2);
    meter.removeBatchObservableCallback(callback, [late]);
    meter.removeBatchObservableCallback(callback, [early]);
    await reader.metrics();
    expect(calls).toBe(2);
  });

  it('batch callbacks added and removed after the SDK loaded, on early and late observables, are all gone', async () => {
    const deferred = new DeferredMeterProvider();
    const meter = deferred.getMeter('m');
    const early = meter.createObservableGauge('early');
    const { provider, reader } = sdk();
    deferred.setDelegate(provider);
    const late = meter.createObservableGauge('late');
    let calls = 0;
    for (let i = 0; i < 100; i++) {
      const callback = () => {
        calls++;
      };
      const observables = i % 2 === 0 ? [early] : [late];
      meter.addBatchObservableCallback(callback, observables);
      meter.removeBatchObservableCallback(callback, observables);
    }
    await reader.metrics();
    expect(calls).toBe(0);
  });
});
