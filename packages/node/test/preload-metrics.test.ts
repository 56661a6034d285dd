import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_BUCKETS_SECONDS } from '@otelkit/core';
import { freePort, parseSamples, promtoolCheckMetrics, request, startApp, type RunningApp, type Sample } from './support.js';

const REQUESTS = 25;
const DURATION = 'http_server_request_duration_seconds';

for (const fixture of ['esm-app.mjs', 'cjs-app.cjs']) {
  describe(`node --import @otelkit/node/register (${fixture})`, () => {
    let app: RunningApp;
    let metricsPort: number;
    let text: string;
    let samples: Sample[];

    beforeAll(async () => {
      metricsPort = await freePort();
      app = await startApp(fixture, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_SERVICE_NAME: 'fixture' });
      for (let i = 0; i < REQUESTS; i++) {
        const response = await request(`http://127.0.0.1:${app.port}/hello?token=s3cret&user=bob`);
        expect(response.status).toBe(200);
      }
      // Scrapes and probes of our own endpoints must not count as application requests.
      await request(`http://127.0.0.1:${metricsPort}/metrics`);
      await request(`http://127.0.0.1:${metricsPort}/health/ready`);
      text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
      samples = parseSamples(text);
    });

    afterAll(async () => {
      await app?.stop();
    });

    const durationOf = (suffix: string, route?: string) =>
      samples.filter(
        (s) => s.name === `${DURATION}${suffix}` && s.labels.http_response_status_code === '200' && (route === undefined || s.labels.http_route === route),
      );

    it('exposes valid Prometheus text that promtool accepts', () => {
      const { status, output } = promtoolCheckMetrics(text);
      expect(output).not.toMatch(/error/i);
      expect(status).toBe(0);
    });

    it('counts exactly the app requests in http.server.request.duration', () => {
      const counts = durationOf('_count');
      expect(counts).toHaveLength(1);
      expect(counts[0]?.value).toBe(REQUESTS);
      expect(counts[0]?.labels).toMatchObject({ http_request_method: 'GET', url_scheme: 'http' });
    });

    it('uses exactly the ten 10 ms .. 10 s buckets', () => {
      const bounds = durationOf('_bucket').map((s) => s.labels.le);
      expect(bounds).toEqual([...DURATION_BUCKETS_SECONDS.map(String), '+Inf']);
      expect(durationOf('_bucket').at(-1)?.value).toBe(REQUESTS);
    });

    it('keeps raw paths and query strings out of metric attributes', () => {
      expect(text).not.toContain('s3cret');
      expect(text).not.toContain('/hello');
      expect(text).not.toMatch(/url_path|url_query/);
    });

    it('reports active requests, uptime, starts and the service identity', () => {
      const active = samples.find((s) => s.name === 'http_server_active_requests' && s.labels.http_request_method === 'GET');
      expect(active?.value).toBe(0);
      expect(samples.find((s) => s.name === 'service_starts_total')?.value).toBe(1);
      expect(samples.find((s) => s.name === 'process_uptime_seconds')?.value).toBeGreaterThan(0);
      expect(samples.find((s) => s.name === 'target_info')?.labels.service_name).toBe('fixture');
    });

    it('reports runtime metrics', () => {
      expect(samples.some((s) => s.name.startsWith('nodejs_eventloop'))).toBe(true);
      expect(samples.some((s) => s.name.startsWith('v8js_memory_heap'))).toBe(true);
    });

    it('sends the trace id back in a traceresponse header', async () => {
      const response = await request(`http://127.0.0.1:${app.port}/boom`);
      expect(response.status).toBe(500);
      expect(response.headers.get('traceresponse')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    });

    it('records error.type for server errors and _OTHER for unknown methods', async () => {
      await request(`http://127.0.0.1:${app.port}/hello`, 'PROPFIND');
      const scraped = parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
      const failed = scraped.find((s) => s.name === `${DURATION}_count` && s.labels.http_response_status_code === '500' && s.labels.http_request_method === 'GET');
      expect(failed?.labels.error_type).toBe('500');
      expect(scraped.some((s) => s.name === `${DURATION}_count` && s.labels.http_request_method === '_OTHER')).toBe(true);
      expect(scraped.some((s) => s.labels.http_request_method === 'PROPFIND')).toBe(false);
    });
  });
}

describe('route templates', () => {
  it('records http.route set by setHttpRoute, never the raw path', async () => {
    const metricsPort = await freePort();
    const app = await startApp('esm-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
    try {
      for (const id of [1, 2, 3]) await request(`http://127.0.0.1:${app.port}/items/${id}`);
      const samples = parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
      const routed = samples.find((s) => s.name === `${DURATION}_count` && s.labels.http_route === '/items/:id');
      expect(routed?.value).toBe(3);
      expect(samples.some((s) => Object.values(s.labels).some((v) => v.startsWith('/items/1')))).toBe(false);
    } finally {
      await app.stop();
    }
  });
});
