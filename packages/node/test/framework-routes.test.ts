import { afterEach, describe, expect, it } from 'vitest';
import { eventuallyPasses, freePort, parseSamples, request, startApp, type RunningApp } from './support.js';

// Routes with no code, under the preload, in ES-module and CommonJS apps: fastify 4 and 5 (its
// diagnostics channel), koa 3 with @koa/router 14 and hapi 21 (their OpenTelemetry instrumentations),
// with nothing recorded and with spans recorded. Each app serves /users/<id> and
// /tenants/<tenant>/orders/<order>: N requests give exactly N on the template, a 404 gets no route,
// and no raw path is anywhere in /metrics.

const COUNT = 'http_server_request_duration_seconds_count';

type Case = {
  name: string;
  fixture: string;
  env?: Record<string, string>;
  /** The templates in the framework's own syntax. */
  users: string;
  orders: string;
  /** The app mounts /metrics on its own port too. */
  mountsMetrics?: boolean;
};

const SPANS = { OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '600000' };

const CASES: Case[] = [];
for (const moduleSystem of ['mjs', 'cjs'] as const) {
  const kind = moduleSystem === 'mjs' ? 'ESM' : 'CJS';
  for (const [fastify, version] of [['fastify', '5'], ['fastify4', '4']] as const) {
    CASES.push({ name: `fastify ${version}, ${kind}`, fixture: `fastify-routes-app.${moduleSystem}`, env: { FASTIFY: fastify }, users: '/users/:id', orders: '/tenants/:tenant/orders/:order' });
  }
  for (const [mode, env] of [['metrics only', {}], ['spans recorded', SPANS]] as const) {
    CASES.push({ name: `koa 3, ${kind}, ${mode}`, fixture: `koa-routes-app.${moduleSystem}`, env, users: '/users/:id', orders: '/tenants/:tenant/orders/:order', mountsMetrics: true });
    CASES.push({ name: `hapi 21, ${kind}, ${mode}`, fixture: `hapi-routes-app.${moduleSystem}`, env, users: '/users/{id}', orders: '/tenants/{tenant}/orders/{order}' });
  }
}

describe('routes with no code', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const testCase of CASES) {
    it(`${testCase.name}: one series per route template, none with a raw path`, async () => {
      const metricsPort = await freePort();
      app = await startApp(testCase.fixture, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...testCase.env });
      const n = 25;
      for (let i = 0; i < n; i++) expect((await request(`http://127.0.0.1:${app.port}/users/${1000 + i}`)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await request(`http://127.0.0.1:${app.port}/tenants/acme-${i}/orders/${i}`)).status).toBe(200);
      expect((await request(`http://127.0.0.1:${app.port}/nope/secret-4711`)).status).toBe(404);
      let text = '';
      const total = (route: string | undefined, status = '200') =>
        parseSamples(text)
          .filter((s) => s.name === COUNT && s.labels.http_route === route && s.labels.http_response_status_code === status)
          .reduce((sum, s) => sum + s.value, 0);
      await eventuallyPasses(async () => {
        text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
        expect(total(testCase.users)).toBe(n);
        expect(total(testCase.orders)).toBe(3);
        // The unmatched request is counted, with no route at all.
        expect(total(undefined, '404')).toBe(1);
      });
      // Nothing of ours reaches the app's stderr (fastify 4 warns when its deprecated routerPath is read).
      expect(app.output().stderr).not.toContain('DeprecationWarning');
      expect(text).not.toContain('secret-4711');
      expect(text).not.toContain('acme-');
      expect(text).not.toMatch(/users\/10\d\d/);
      if (testCase.mountsMetrics) {
        // /metrics mounted on the app's port answers and is never counted itself.
        const mounted = await request(`http://127.0.0.1:${app.port}/metrics`);
        expect(mounted.status).toBe(200);
        expect(mounted.body).toContain('http_server_request_duration_seconds_bucket');
        text = (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body;
        expect(total('/metrics')).toBe(0);
      }
    });
  }
});
