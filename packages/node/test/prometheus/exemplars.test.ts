import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOpenMetrics } from '../../../../test-support/exposition-parsers.js';
import { eventually, freePort, request, startApp, startOtlpReceiver, type RunningApp } from '../support.js';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0';

async function scrape(port: number, accept: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept } });
  return response.text();
}

describe('exemplars under the preload', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('HTTP duration, operation timer and breaker call duration carry the trace ids of sampled requests only', async () => {
    const receiver = await startOtlpReceiver();
    const metricsPort = await freePort();
    try {
      app = await startApp('exemplars-app.mjs', {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      });
      const sampled = new Set<string>();
      const unsampled = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const traceId = randomBytes(16).toString('hex');
        const flags = i % 2 === 0 ? '01' : '00';
        (flags === '01' ? sampled : unsampled).add(traceId);
        const response = await fetch(`http://127.0.0.1:${app.port}/`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}` } });
        expect(await response.text()).toBe('quote');
      }
      const families = parseOpenMetrics(await scrape(metricsPort, OPENMETRICS));
      for (const name of ['http_server_request_duration_seconds', 'operation_duration_seconds', 'circuit_breaker_call_duration_seconds']) {
        const family = families.find((f) => f.name === name);
        expect(family, name).toBeDefined();
        const traceIds = family!.samples.flatMap((sample) => (sample.exemplar ? [sample.exemplar.labels.trace_id!] : []));
        expect(traceIds.length, name).toBeGreaterThan(0);
        for (const traceId of traceIds) {
          expect(sampled.has(traceId), `${name}: ${traceId}`).toBe(true);
          expect(unsampled.has(traceId)).toBe(false);
        }
      }
      // The traces behind them reach the collector.
      await eventually(() => ([...sampled].every((id) => receiver.spans.some((span) => span.traceId === id)) ? true : undefined));
      // Text 0.0.4 cannot carry exemplars.
      expect(await scrape(metricsPort, 'text/plain;version=0.0.4')).not.toContain('trace_id');
    } finally {
      await receiver.close();
    }
  });

  it('a metrics-only process keeps none; the port gzips when asked', async () => {
    const metricsPort = await freePort();
    app = await startApp('exemplars-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
    for (let i = 0; i < 4; i++) {
      await request(`http://127.0.0.1:${app.port}/`);
    }
    const text = await scrape(metricsPort, OPENMETRICS);
    expect(parseOpenMetrics(text).find((f) => f.name === 'http_server_request_duration_seconds')!.samples.length).toBeGreaterThan(0);
    expect(text).not.toContain('trace_id');
    const zipped = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      get(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { 'accept-encoding': 'gzip', accept: OPENMETRICS } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    expect(parseOpenMetrics(gunzipSync(zipped.body).toString()).some((f) => f.name === 'http_server_request_duration_seconds')).toBe(true);
  });
});
