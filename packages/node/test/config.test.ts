import { describe, expect, it } from 'vitest';
import { configFromEnv, defaultConfig } from '@otelkit/node';
import { freePort, request, startApp } from './support.js';

describe('configuration from the environment', () => {
  it('uses the defaults with an empty environment', () => {
    const { config, problems } = configFromEnv({});
    expect(problems).toEqual([]);
    expect(config).toEqual(defaultConfig());
    expect(config.prometheusHost).toBe('127.0.0.1');
    expect(config.prometheusPort).toBe(9464);
  });

  it('reads the standard variables first', () => {
    const { config, problems } = configFromEnv({
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=1.2.3,deployment.environment.name=prod%20eu',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
      OTEL_EXPORTER_PROMETHEUS_PORT: '9465',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      serviceName: 'checkout',
      resourceAttributes: { 'service.version': '1.2.3', 'deployment.environment.name': 'prod eu' },
      otlpTracesEndpoint: 'http://collector:4318/v1/traces',
      otlpMetricsEndpoint: 'http://collector:4318/v1/metrics',
      otlpTracesProtocol: 'http/json',
      otlpMetricsProtocol: 'http/json',
      otlpTracesHeaders: { 'x-api-key': 'abc' },
      otlpMetricsHeaders: { 'x-api-key': 'abc' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      metricsExporters: ['prometheus', 'otlp'],
      prometheusHost: '0.0.0.0',
      prometheusPort: 9465,
    });
  });

  it('reads the Prometheus exposition settings, and reports bad ones', () => {
    const { config, problems } = configFromEnv({
      OTELKIT_PROMETHEUS_TRANSLATION_STRATEGY: 'NoUTF8EscapingWithSuffixes',
      OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name, deployment.environment.name',
      OTELKIT_NATIVE_HISTOGRAMS: 'false',
      OTELKIT_NATIVE_HISTOGRAM_SCHEMA: '5',
      OTEL_METRICS_EXEMPLAR_FILTER: 'always_off',
      OTELKIT_PROMETHEUS_SCRAPE_TIMEOUT_MS: '2500',
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
      OTEL_METRIC_EXPORT_TIMEOUT: '5000',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      prometheusTranslationStrategy: 'NoUTF8EscapingWithSuffixes',
      prometheusResourceLabels: ['service.name', 'deployment.environment.name'],
      nativeHistograms: false,
      nativeHistogramSchema: 5,
      exemplarFilter: 'always_off',
      scrapeTimeoutMs: 2500,
      otlpMetricsHistogramAggregation: 'base2_exponential_bucket_histogram',
      otlpMetricsTemporality: 'lowmemory',
      metricExportIntervalMs: 15000,
      metricExportTimeoutMs: 5000,
    });
    const bad = configFromEnv({ OTELKIT_PROMETHEUS_TRANSLATION_STRATEGY: 'Dots', OTELKIT_NATIVE_HISTOGRAM_SCHEMA: '9', OTEL_METRICS_EXEMPLAR_FILTER: 'some' });
    expect(bad.config).toMatchObject({ prometheusTranslationStrategy: 'UnderscoreEscapingWithSuffixes', nativeHistogramSchema: 3, exemplarFilter: 'trace_based' });
    expect(bad.problems.map((p) => p.variable).sort()).toEqual(['OTELKIT_NATIVE_HISTOGRAM_SCHEMA', 'OTELKIT_PROMETHEUS_TRANSLATION_STRATEGY', 'OTEL_METRICS_EXEMPLAR_FILTER']);
  });

  it('keeps per-signal headers and protocols to their own signal', () => {
    const { config } = configFromEnv({
      OTEL_EXPORTER_OTLP_HEADERS: 'tenant=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-trace-key=t',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-metrics-key=m',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    });
    expect(config.otlpTracesHeaders).toEqual({ tenant: 'a', 'x-trace-key': 't' });
    expect(config.otlpMetricsHeaders).toEqual({ tenant: 'a', 'x-metrics-key': 'm' });
    expect(config.otlpTracesProtocol).toBe('http/json');
    expect(config.otlpMetricsProtocol).toBe('http/protobuf');
  });

  it('takes a signal-specific endpoint as it is', () => {
    const { config } = configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' });
    expect(config.otlpTracesEndpoint).toBe('http://b:9999/custom');
  });

  it('reports each bad value once, naming the variable and the default used', () => {
    const { config, problems } = configFromEnv({
      OTEL_EXPORTER_PROMETHEUS_PORT: 'ninety',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '7',
      OTEL_SDK_DISABLED: 'maybe',
      OTEL_METRICS_EXPORTER: 'prometheus,statsd',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTELKIT_SHUTDOWN_TIMEOUT_MS: '-5',
    });
    expect(config).toMatchObject({
      prometheusPort: 9464,
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      disabled: false,
      metricsExporters: ['prometheus'],
      otlpTracesEndpoint: undefined,
      shutdownTimeoutMs: 5000,
    });
    expect(problems.map((p) => p.variable)).toEqual([
      'OTEL_SDK_DISABLED',
      'OTEL_METRICS_EXPORTER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      'OTELKIT_SHUTDOWN_TIMEOUT_MS',
    ]);
    expect(problems.find((p) => p.variable === 'OTEL_EXPORTER_PROMETHEUS_PORT')?.message).toBe(
      'invalid value "ninety" (expected an integer >= 0 <= 65535); using 9464',
    );
  });

  it('never prints header values, which may hold credentials', () => {
    const { problems } = configFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%ZZsecret' });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).not.toContain('secret');
  });

  it('starts the app anyway and says what was wrong, once, on stderr', async () => {
    const metricsPort = await freePort();
    const app = await startApp('cjs-app.cjs', {
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTELKIT_CARDINALITY_LIMIT: 'lots',
    });
    try {
      expect((await request(`http://127.0.0.1:${app.port}/`)).status).toBe(200);
      expect((await request(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
      const lines = app.output().stderr.split('\n').filter((line) => line.includes('otelkit'));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain('OTEL_TRACES_SAMPLER: invalid value "sometimes"');
      expect(lines[0]).toContain('using "parentbased_always_on"');
      expect(lines[1]).toContain('OTELKIT_CARDINALITY_LIMIT');
    } finally {
      await app.stop();
    }
  });

  it('starts nothing with OTEL_SDK_DISABLED=true', async () => {
    const metricsPort = await freePort();
    const app = await startApp('cjs-app.cjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_SDK_DISABLED: 'true' });
    try {
      expect((await request(`http://127.0.0.1:${app.port}/`)).headers.get('traceresponse')).toBeNull();
      await expect(request(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    } finally {
      await app.stop();
    }
  });
});
