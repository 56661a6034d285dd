import { afterEach, describe, expect, it } from 'vitest';
import { eventuallyPasses, freePort, parseSamples, request, startApp, type RunningApp } from './support.js';

// Routes with no code: fastify 4 and 5 from npm, ES-module and CommonJS apps under the preload.

const COUNT = 'http_server_request_duration_seconds_count';

describe('fastify routes with no code', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const fastify of ['fastify', 'fastify4']) {
    for (const fixture of ['fastify-routes-app.mjs', 'fastify-routes-app.cjs']) {
      it(`${fastify === 'fastify' ? 'fastify 5' : 'fastify 4'}, ${fixture.endsWith('.mjs') ? 'ESM' : 'CJS'}: one series per route template, none with a raw path`, async () => {
        const metricsPort = await freePort();
        app = await startApp(fixture, { FASTIFY: fastify, OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
        const n = 25;
        for (let i = 0; i < n; i++) expect((await request(`http://127.0.0.1:${app.port}/users/${1000 + i}`)).status).toBe(200);
        for (let i = 0; i < 3; i++) expect((await request(`http://127.0.0.1:${app.port}/tenants/acme-${i}/orders/${i}`)).status).toBe(200);
        expect((await request(`http://127.0.0.1:${app.port}/nope/secret-4711`)).status).toBe(404);
        let text = '';
        await eventuallyPasses(async () => {
          text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
          const counts = parseSamples(text).filter((sample) => sample.name === COUNT);
          expect(counts.filter((s) => s.labels.http_route === '/users/:id').reduce((sum, s) => sum + s.value, 0)).toBe(n);
          expect(counts.filter((s) => s.labels.http_route === '/tenants/:tenant/orders/:order').reduce((sum, s) => sum + s.value, 0)).toBe(3);
          // The unmatched request is counted, with no route at all.
          expect(counts.filter((s) => s.labels.http_route === undefined && s.labels.http_response_status_code === '404').reduce((sum, s) => sum + s.value, 0)).toBe(1);
        });
        expect(text).not.toContain('secret-4711');
        expect(text).not.toContain('acme-');
        expect(text).not.toMatch(/users\/10\d\d/);
      });
    }
  }
});

describe('koa routes with no code (@koa/router)', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const fixture of ['koa-routes-app.mjs', 'koa-routes-app.cjs']) {
    for (const tracing of [false, true]) {
      it(`koa 3, ${fixture.endsWith('.mjs') ? 'ESM' : 'CJS'}, ${tracing ? 'spans recorded' : 'metrics only'}: one series per route template, none with a raw path`, async () => {
        const metricsPort = await freePort();
        app = await startApp(fixture, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...(tracing ? { OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '600000' } : {}) });
        const n = 25;
        for (let i = 0; i < n; i++) expect((await request(`http://127.0.0.1:${app.port}/users/${1000 + i}`)).status).toBe(200);
        for (let i = 0; i < 3; i++) expect((await request(`http://127.0.0.1:${app.port}/tenants/acme-${i}/orders/${i}`)).status).toBe(200);
        expect((await request(`http://127.0.0.1:${app.port}/nope/secret-4711`)).status).toBe(404);
        let text = '';
        await eventuallyPasses(async () => {
          text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
          const counts = parseSamples(text).filter((sample) => sample.name === COUNT);
          expect(counts.filter((s) => s.labels.http_route === '/users/:id').reduce((sum, s) => sum + s.value, 0)).toBe(n);
          expect(counts.filter((s) => s.labels.http_route === '/tenants/:tenant/orders/:order').reduce((sum, s) => sum + s.value, 0)).toBe(3);
          expect(counts.filter((s) => s.labels.http_route === undefined && s.labels.http_response_status_code === '404').reduce((sum, s) => sum + s.value, 0)).toBe(1);
        });
        expect(text).not.toContain('secret-4711');
        expect(text).not.toContain('acme-');
        expect(text).not.toMatch(/users\/10\d\d/);
        // /metrics mounted on the app's port (koa middleware style) answers and is never counted itself.
        const mounted = await request(`http://127.0.0.1:${app.port}/metrics`);
        expect(mounted.status).toBe(200);
        expect(mounted.body).toContain('http_server_request_duration_seconds_bucket');
        const after = parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
        expect(after.filter((s) => s.name === COUNT && s.labels.http_route === '/metrics')).toEqual([]);
      });
    }
  }
});

describe('hapi routes with no code', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const fixture of ['hapi-routes-app.mjs', 'hapi-routes-app.cjs']) {
    for (const tracing of [false, true]) {
      it(`hapi 21, ${fixture.endsWith('.mjs') ? 'ESM' : 'CJS'}, ${tracing ? 'spans recorded' : 'metrics only'}: one series per route template, none with a raw path`, async () => {
        const metricsPort = await freePort();
        app = await startApp(fixture, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...(tracing ? { OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '600000' } : {}) });
        const n = 25;
        for (let i = 0; i < n; i++) expect((await request(`http://127.0.0.1:${app.port}/users/${1000 + i}`)).status).toBe(200);
        for (let i = 0; i < 3; i++) expect((await request(`http://127.0.0.1:${app.port}/tenants/acme-${i}/orders/${i}`)).status).toBe(200);
        expect((await request(`http://127.0.0.1:${app.port}/nope/secret-4711`)).status).toBe(404);
        let text = '';
        await eventuallyPasses(async () => {
          text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
          const counts = parseSamples(text).filter((sample) => sample.name === COUNT);
          expect(counts.filter((s) => s.labels.http_route === '/users/{id}').reduce((sum, s) => sum + s.value, 0)).toBe(n);
          expect(counts.filter((s) => s.labels.http_route === '/tenants/{tenant}/orders/{order}').reduce((sum, s) => sum + s.value, 0)).toBe(3);
          expect(counts.filter((s) => s.labels.http_route === undefined && s.labels.http_response_status_code === '404').reduce((sum, s) => sum + s.value, 0)).toBe(1);
        });
        expect(text).not.toContain('secret-4711');
        expect(text).not.toContain('acme-');
        expect(text).not.toMatch(/users\/10\d\d/);
      });
    }
  }
});
