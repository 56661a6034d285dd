import { describe, expect, it } from 'vitest';
import { freePort, parseSamples, request, startApp } from './support.js';

describe('endpoints mounted on the app server (express)', () => {
  it('serves /metrics and health there, counts only app requests, and takes the route from express', async () => {
    const app = await startApp('express-mounted.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()) });
    try {
      for (let i = 0; i < 4; i++) await request(`http://127.0.0.1:${app.port}/users/${i}`);
      expect((await request(`http://127.0.0.1:${app.port}/health/ready`)).status).toBe(200);
      await request(`http://127.0.0.1:${app.port}/metrics`);
      const scrape = await request(`http://127.0.0.1:${app.port}/metrics`);
      expect(scrape.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const counts = parseSamples(scrape.body).filter((s) => s.name === 'http_server_request_duration_seconds_count');
      expect(counts.map((s) => [s.labels.http_route, s.value])).toEqual([['/users/:id', 4]]);
    } finally {
      await app.stop();
    }
  });

  it('serves /metrics on a fastify app and records fastify route templates via setHttpRoute', async () => {
    const app = await startApp('fastify-mounted.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()) });
    try {
      for (const id of [1, 2, 3]) expect((await request(`http://127.0.0.1:${app.port}/items/${id}`)).status).toBe(200);
      const scrape = await request(`http://127.0.0.1:${app.port}/metrics`);
      expect(scrape.status).toBe(200);
      const counts = parseSamples(scrape.body).filter((s) => s.name === 'http_server_request_duration_seconds_count');
      expect(counts.map((s) => [s.labels.http_route, s.value])).toEqual([['/items/:id', 3]]);
    } finally {
      await app.stop();
    }
  });
});
