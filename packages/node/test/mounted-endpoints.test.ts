import { describe, expect, it } from 'vitest';
import { freePort, parseSamples, request, startApp } from './support.js';

describe('endpoints mounted on the app server (express)', () => {
  for (const esmLoader of ['auto', 'never']) {
  it(`serves /metrics and health there, counts only app requests, and takes the route from express (OTELKIT_ESM_LOADER=${esmLoader})`, async () => {
    // auto: this fixture's package.json lists lru-cache, so the loader is on and express is instrumented at
    // start; never: instrumentation-express loads just before express does.
    const app = await startApp('express-mounted.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()), OTELKIT_ESM_LOADER: esmLoader });
    try {
      for (let i = 0; i < 4; i++) await request(`http://127.0.0.1:${app.port}/users/${i}`);
      for (let i = 0; i < 3; i++) await request(`http://127.0.0.1:${app.port}/api/items/${i}`);
      for (let i = 0; i < 2; i++) await request(`http://127.0.0.1:${app.port}/tenants/acme${i}/users/4${i}`);
      expect((await request(`http://127.0.0.1:${app.port}/health/ready`)).status).toBe(200);
      await request(`http://127.0.0.1:${app.port}/metrics`);
      const scrape = await request(`http://127.0.0.1:${app.port}/metrics`);
      expect(scrape.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const counts = parseSamples(scrape.body).filter((s) => s.name === 'http_server_request_duration_seconds_count');
      expect(counts.map((s) => [s.labels.http_route, s.value]).sort()).toEqual([
        ['/api/items/:id', 3],
        ['/tenants/:tenant/users/:id', 2],
        ['/users/:id', 4],
      ]);
      expect(scrape.body).not.toMatch(/acme|\/40|\/41/);
    } finally {
      await app.stop();
    }
  });
  }

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
