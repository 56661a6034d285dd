import { describe, expect, it } from 'vitest';
import { cardinalityLimitView, createMetricNameFilter, globToRegExp, otelkitViews } from '@otelkit/core';
import { createTestMeterProvider } from './metric-reader.js';

const NAMES = ['http.server.request.duration', 'operation.duration', 'db.client.connection.count', 'app.secret.breaches', 'v8js.memory.heap.used'];

async function collectedAfter(views: ReturnType<typeof otelkitViews>): Promise<Map<string, number>> {
  const { provider, reader } = createTestMeterProvider({ views });
  const meter = provider.getMeter('test');
  for (const name of NAMES) {
    if (name.endsWith('duration')) meter.createHistogram(name, { unit: 's' }).record(0.2);
    else meter.createCounter(name).add(1);
  }
  const counts = new Map<string, number>();
  for (const metric of await reader.metrics()) {
    const value = metric.dataPoints[0]?.value;
    counts.set(metric.descriptor.name, typeof value === 'number' ? value : (value as { count: number }).count);
  }
  return counts;
}

describe('otelkit views', () => {
  it('keeps every metric, each measurement counted once', async () => {
    const counts = await collectedAfter(otelkitViews());
    expect([...counts.keys()].sort()).toEqual([...NAMES].sort());
    expect([...counts.values()]).toEqual(NAMES.map(() => 1));
  });

  it('drops what the deny globs match, and only that', async () => {
    const counts = await collectedAfter(otelkitViews({ deny: ['app.*', 'v8js.*', 'operation.*'] }));
    expect([...counts.keys()].sort()).toEqual(['db.client.connection.count', 'http.server.request.duration']);
    expect(counts.get('http.server.request.duration')).toBe(1);
  });

  it('documents why: with two views selecting one instrument, sdk-metrics 2.x counts each measurement twice', async () => {
    const { provider, reader } = createTestMeterProvider({
      views: [
        { instrumentName: 'overlap.*', aggregationCardinalityLimit: 100 },
        { instrumentName: 'overlap.counter', aggregationCardinalityLimit: 100 },
      ],
    });
    provider.getMeter('test').createCounter('overlap.counter').add(1);
    // If this ever becomes 1, the SDK fixed it and an allow list could be expressed as views.
    expect((await reader.metric('overlap.counter'))?.dataPoints[0]?.value).toBe(2);
  });

  it('never selects one instrument with two views (the SDK would double count)', () => {
    const views = otelkitViews({ deny: ['x.*'] });
    for (const name of NAMES) {
      const selecting = views.filter((view) => globToRegExp(view.instrumentName ?? '*').test(name));
      expect(selecting.length, name).toBeLessThanOrEqual(1);
    }
  });

  it('matches globs literally except for *', () => {
    expect(globToRegExp('http.server.*').test('http.server.request.duration')).toBe(true);
    expect(globToRegExp('http.server.*').test('httpxserver.a')).toBe(false);
    expect(globToRegExp('a?b').test('axb')).toBe(false);
  });
});

describe('metric name filter', () => {
  it('keeps everything without lists', () => {
    expect(createMetricNameFilter({})('anything')).toBe(true);
  });

  it('keeps only allowed names, and deny wins over allow', () => {
    const keep = createMetricNameFilter({ allow: ['http.*', 'db.*'], deny: ['db.client.connection.*'] });
    expect(keep('http.server.request.duration')).toBe(true);
    expect(keep('db.client.operation.duration')).toBe(true);
    expect(keep('db.client.connection.count')).toBe(false);
    expect(keep('app.secret.breaches')).toBe(false);
  });
});

describe('cardinality limit', () => {
  it('folds attribute sets past the limit of a duration histogram into one overflow series', async () => {
    const { provider, reader } = createTestMeterProvider({ views: otelkitViews({ cardinalityLimit: 5 }) });
    const histogram = provider.getMeter('test').createHistogram('http.server.request.duration');
    for (let i = 0; i < 50; i++) histogram.record(0.1, { 'http.route': `/r${i}` });
    const metric = await reader.metric('http.server.request.duration');
    expect(metric?.dataPoints.length).toBe(5);
    const overflow = metric?.dataPoints.find((point) => point.attributes['otel.metric.overflow'] === true);
    expect((overflow?.value as { count: number }).count).toBe(46);
  });

  it('has a standalone preset for any instrument', async () => {
    const { provider, reader } = createTestMeterProvider({ views: [cardinalityLimitView('a.*', 3)] });
    const counter = provider.getMeter('test').createCounter('a.b');
    for (let i = 0; i < 10; i++) counter.add(1, { id: String(i) });
    expect((await reader.metric('a.b'))?.dataPoints.length).toBe(3);
  });
});
