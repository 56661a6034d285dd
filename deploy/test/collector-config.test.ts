import { describe, expect, it } from 'vitest';
import { collectorProblems, loadYaml } from './checks.js';

// otelcol can't run here (no binary, no Docker), so the configuration is checked for structure and
// for component names of the collector-contrib distribution (listed in checks.ts).
describe('otel-collector.yaml', () => {
  const config = loadYaml('otel-collector.yaml');

  it('defines every component it references, only with collector-contrib component types', () => {
    expect(collectorProblems(config)).toEqual([]);
  });

  it('receives OTLP over HTTP and gRPC, sends traces to Jaeger over OTLP, has a health check', () => {
    expect(Object.keys(config.receivers.otlp.protocols).sort()).toEqual(['grpc', 'http']);
    expect(config.service.pipelines.traces.exporters).toEqual(['otlp/jaeger']);
    expect(config.exporters['otlp/jaeger'].endpoint).toBe('jaeger:4317');
    expect(config.service.extensions).toContain('health_check');
  });

  it('reports a pipeline naming an undefined processor, an unknown component and a missing memory_limiter', () => {
    const broken = structuredClone(config);
    broken.service.pipelines.traces.processors = ['memory_limiter', 'tail_sampling', 'batch'];
    broken.exporters['jaeger'] = { endpoint: 'jaeger:14250' };
    broken.service.pipelines.metrics.processors = ['batch', 'memory_limiter', 'resource'];
    expect(collectorProblems(broken)).toEqual([
      'exporters: "jaeger" is not a known collector-contrib component type',
      'pipeline "traces" names processors "tail_sampling", which is not defined',
      'pipeline "metrics" does not start with memory_limiter',
      'exporters: "jaeger" is defined but never used',
    ]);
  });
});
