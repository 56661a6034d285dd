import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { eventually, FIXTURES, freePort, parseSamples, request, startApp, startOtlpReceiver, type RunningApp } from './support.js';

// start() → shutdown() → start() in one process gives a working SDK again: health, metrics, traces.
describe('restart', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('serves health, metrics and spans after start → shutdown → start', async () => {
    const receiver = await startOtlpReceiver();
    const metricsPort = await freePort();
    try {
      app = await startApp(
        'restart-app.mjs',
        {
          OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
          OTEL_BSP_SCHEDULE_DELAY: '100',
          OTELKIT_RUNTIME_METRICS: 'false',
        },
        false,
      );
      expect(app.output().stdout).not.toContain('NOT BOUND AGAIN');
      for (let i = 0; i < 3; i++) expect((await request(`http://127.0.0.1:${app.port}/`)).status).toBe(200);
      const ready = await request(`http://127.0.0.1:${metricsPort}/health/ready`);
      expect(ready.status).toBe(200);
      const samples = parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
      const count = samples.filter((s) => s.name === 'http_server_request_duration_seconds_count').reduce((sum, s) => sum + s.value, 0);
      expect(count).toBe(3);
      // One active-requests series per label set: the first SDK's callback is gone.
      const active = samples.filter((s) => s.name === 'http_server_active_requests');
      expect(active).toHaveLength(1);
      expect(samples.find((s) => s.name === 'service_starts_total')?.value).toBeGreaterThanOrEqual(1);
      await eventually(() => (receiver.spans.filter((span) => span.kind === 2).length >= 3 ? true : undefined));
      expect(app.output().stderr).not.toMatch(/duplicate registration|refused/i);
    } finally {
      await receiver.close();
    }
  });

  for (const mode of ['metrics only', 'spans exported'] as const) {
    it(`shutdown() leaves no resource, process listener or global behind (${mode})`, async () => {
      const env: Record<string, string> = { START: '1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' };
      if (mode === 'spans exported') Object.assign(env, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' });
      const { execFileSync } = await import('node:child_process');
      type Left = { before: { listeners: Record<string, number> }; after: { resources: string[]; listeners: Record<string, number> }; globals: Record<string, string> };
      const run = (extra: Record<string, string>): Left => {
        const output = execFileSync(process.execPath, [join(FIXTURES, 'shutdown-clean.mjs')], { cwd: FIXTURES, env: { PATH: process.env.PATH ?? '', ...extra }, encoding: 'utf8' });
        return JSON.parse(/LEFT (.*)/.exec(output)![1]!) as Left;
      };
      const left = run(env);
      // The same process never starting otelkit is the baseline (its stdout pipe, for one).
      const baseline = run({ ...env, START: '0' });
      expect(left.after.resources).toEqual(baseline.after.resources);
      expect(left.after.listeners).toEqual(left.before.listeners);
      expect(left.globals).toEqual({
        meterProviderIsNoop: 'NoopMeterProvider',
        tracer: 'NoopTracerProvider',
        contextManager: 'NoopContextManager',
        propagator: 'NoopTextMapPropagator',
      });
    });
  }

  it('shutdown() leaves the app\'s own context manager and propagator in place', async () => {
    const { execFileSync } = await import('node:child_process');
    const output = execFileSync(process.execPath, [join(FIXTURES, 'shutdown-clean.mjs')], {
      cwd: FIXTURES,
      env: { PATH: process.env.PATH ?? '', START: '1', APP_GLOBALS: '1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
      encoding: 'utf8',
    });
    const left = JSON.parse(/LEFT (.*)/.exec(output)![1]!) as { globals: Record<string, string> };
    expect(left.globals.contextManager).toBe('AppContextManager');
    expect(left.globals.propagator).toBe('AppPropagator');
  });
});
