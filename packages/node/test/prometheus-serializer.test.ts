import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { serializePrometheus, unitSuffix } from '@otelkit/node';
import { otelkitViews } from '@otelkit/core';
import { parseSamples, promtoolCheckMetrics } from './support.js';

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function exposition(record: (provider: MeterProvider) => void, options = {}): Promise<string> {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader], views: otelkitViews(), resource: resourceFromAttributes({ 'service.name': 'svc', 'service.instance.id': 'i-1' }) });
  record(provider);
  const { resourceMetrics } = await reader.collect();
  return (await serializePrometheus(resourceMetrics, options)).body.toString();
}

describe('Prometheus serialization', () => {
  it('maps UCUM units to the specification suffixes', () => {
    expect(unitSuffix('s', false)).toBe('seconds');
    expect(unitSuffix('ms', false)).toBe('milliseconds');
    expect(unitSuffix('By', false)).toBe('bytes');
    expect(unitSuffix('{request}', false)).toBe('');
    expect(unitSuffix('1', true)).toBe('ratio');
    expect(unitSuffix('1', false)).toBe('');
    expect(unitSuffix('By/s', false)).toBe('bytes_per_second');
    expect(unitSuffix('{packet}/s', false)).toBe('per_second');
  });

  it('names counters, up-down counters, gauges and histograms as the spec says', async () => {
    const text = await exposition((provider) => {
      const meter = provider.getMeter('m', '1.0');
      meter.createCounter('cache.requests', { unit: '{request}', description: 'Cache lookups.' }).add(3, { 'cache.name': 'users' });
      meter.createCounter('bytes.sent', { unit: 'By' }).add(10);
      meter.createCounter('jobs_total', { unit: '{job}' }).add(1);
      meter.createUpDownCounter('db.client.connection.count', { unit: '{connection}' }).add(2, { state: 'idle' });
      meter.createObservableGauge('pool.utilization', { unit: '1' }).addCallback((r) => r.observe(0.5));
      meter.createHistogram('http.server.request.duration', { unit: 's' }).record(0.3);
      meter.createHistogram('latency_seconds', { unit: 's' }).record(0.3);
    });
    const samples = parseSamples(text);
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'cache_requests_total',
      'bytes_sent_bytes_total',
      'jobs_total',
      'db_client_connection_count',
      'pool_utilization_ratio',
      'http_server_request_duration_seconds_bucket',
      'http_server_request_duration_seconds_sum',
      'http_server_request_duration_seconds_count',
      'latency_seconds_count',
      'target_info',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(text).toContain('# TYPE cache_requests_total counter');
    expect(text).toContain('# HELP cache_requests_total Cache lookups.');
    expect(text).toContain('# TYPE db_client_connection_count gauge');
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(samples.find((s) => s.name === 'cache_requests_total')?.labels).toEqual({ cache_name: 'users', otel_scope_name: 'm', otel_scope_version: '1.0' });
    expect(samples.find((s) => s.name === 'target_info')?.labels).toMatchObject({ service_name: 'svc', service_instance_id: 'i-1' });
  });

  it('writes cumulative buckets ending in +Inf equal to the count', async () => {
    const text = await exposition((provider) => {
      const histogram = provider.getMeter('m').createHistogram('http.server.request.duration', { unit: 's' });
      for (const value of [0.005, 0.02, 0.02, 0.3, 20]) histogram.record(value);
    });
    const buckets = parseSamples(text).filter((s) => s.name === 'http_server_request_duration_seconds_bucket');
    expect(buckets.map((b) => [b.labels.le, b.value])).toEqual([
      ['0.01', 1], ['0.025', 3], ['0.05', 3], ['0.1', 3], ['0.25', 3], ['0.5', 4], ['1', 4], ['2.5', 4], ['5', 4], ['10', 4], ['+Inf', 5],
    ]);
    const sum = parseSamples(text).find((s) => s.name === 'http_server_request_duration_seconds_sum');
    expect(sum?.value).toBeCloseTo(20.345, 6);
  });

  it('escapes label values and help text, and merges one family across scopes', async () => {
    const text = await exposition((provider) => {
      provider.getMeter('a').createCounter('shared', { description: 'line\nbreak \\ here' }).add(1, { q: 'say "hi"\\\n' });
      provider.getMeter('b').createCounter('shared', { description: 'line\nbreak \\ here' }).add(2);
    });
    expect(text.match(/# TYPE shared_total counter/g)).toHaveLength(1);
    expect(text).toContain('# HELP shared_total line\\nbreak \\\\ here');
    expect(text).toContain('q="say \\"hi\\"\\\\\\n"');
    expect(parseSamples(text).filter((s) => s.name === 'shared_total')).toHaveLength(2);
    const { status, output } = promtoolCheckMetrics(text);
    expect(output).not.toMatch(/error/i);
    expect(status).toBe(0);
  });

  it('applies a name filter and can leave out scope and target info', async () => {
    const text = await exposition(
      (provider) => {
        provider.getMeter('m').createCounter('keep.me').add(1);
        provider.getMeter('m').createCounter('drop.me').add(1);
      },
      { filter: (name: string) => name.startsWith('keep.'), withoutScopeInfo: true, withoutTargetInfo: true },
    );
    expect(text).toBe('# HELP keep_me_total keep.me (no description)\n# TYPE keep_me_total counter\nkeep_me_total 1\n');
  });
});

describe('label name collisions', () => {
  it('merges attributes that sanitize to one label name, so the scrape stays valid', async () => {
    const text = await exposition((provider) => {
      provider.getMeter('m').createCounter('collide').add(1, { 'a.b': 'x', a_b: 'y' });
    });
    expect(text).toContain('collide_total{a_b="x;y",otel_scope_name="m"');
    const { status } = promtoolCheckMetrics(text);
    expect(status).toBe(0);
  });
});

describe('attributes that would collide with our own labels', () => {
  it('leaves them out, so a stray `le` or scope-named attribute cannot invalidate the scrape', async () => {
    const text = await exposition((provider) => {
      provider.getMeter('m').createHistogram('odd.duration', { unit: 's', description: 'x' }).record(0.2, { le: 'oops', route: '/a' });
      provider.getMeter('m').createCounter('odd.count', { description: 'y' }).add(1, { 'otel.scope.name': 'fake', route: '/b' });
    });
    expect(text).not.toContain('oops');
    expect(text).not.toContain('fake');
    expect(text).toContain('odd_duration_seconds_count{route="/a",otel_scope_name="m"');
    expect(text).toContain('odd_count_total{route="/b",otel_scope_name="m"');
    expect(promtoolCheckMetrics(text).status).toBe(0);
  });
});
