import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, freePort, request, startApp, startOtlpReceiver, type RunningApp } from './support.js';

const SERVER = 2; // SPAN_KIND_SERVER in the OTLP definitions

describe('OTLP/HTTP traces', () => {
  let app: RunningApp | undefined;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;

  afterEach(async () => {
    await app?.stop();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`delivers every buffered server span on SIGTERM (${protocol}), decoded with the official definitions`, async () => {
      receiver = await startOtlpReceiver();
      app = await startApp('esm-app.mjs', {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'traced-fixture',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        // Far longer than the test: only the SIGTERM flush can deliver these spans.
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      });
      const traceIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await request(`http://127.0.0.1:${app.port}/hello?token=s3cret&page=${i}`);
        traceIds.push(response.headers.get('traceresponse')!.split('-')[1]!);
      }
      expect(receiver.spans).toHaveLength(0);
      app.child.kill('SIGTERM');
      const { code, signal } = await app.exited;
      // Node's default SIGTERM behaviour is kept: the fixture has no handler, so it dies by the signal.
      expect(signal).toBe('SIGTERM');
      expect(code).toBeNull();

      const server = receiver.spans.filter((span) => span.kind === SERVER);
      expect(server.map((span) => span.traceId).sort()).toEqual([...traceIds].sort());
      for (const span of server) {
        expect(span.resource['service.name']).toBe('traced-fixture');
        expect(span.attributes['url.query']).toMatch(/^token=REDACTED&page=REDACTED$/);
        expect(JSON.stringify(span.attributes)).not.toContain('s3cret');
      }
      expect(receiver.contentTypes[0]).toContain(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
    });
  }

  it('keeps telemetry running while an app with its own SIGTERM handler drains', async () => {
    receiver = await startOtlpReceiver();
    const metricsPort = await freePort();
    app = await startApp('draining-app.mjs', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    await request(`http://127.0.0.1:${app.port}/before`);
    app.child.kill('SIGTERM');
    await eventually(() => (app!.output().stdout.includes('DRAINING') ? true : undefined));
    // Draining: the app still serves, its requests are still traced, /metrics still answers.
    expect((await request(`http://127.0.0.1:${app.port}/during`)).status).toBe(200);
    expect((await request(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
    await request(`http://127.0.0.1:${app.port}/finish`);
    const { code } = await app.exited;
    expect(code).toBe(0);
    const paths = receiver.spans.filter((span) => span.kind === SERVER).map((span) => span.attributes['url.path']).sort();
    expect(paths).toEqual(['/before', '/during', '/finish']);
  });

  it('never keeps an app alive through scrapers\' keep-alive connections after the app closes its server', async () => {
    const metricsPort = await freePort();
    app = await startApp('closing-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
    const signalled = Date.now();
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    agent.destroy();
    expect(code).toBe(0);
    // Without unref'd scraper sockets the process would wait out the server's 5 s keep-alive timeout.
    expect(Date.now() - signalled).toBeLessThan(4000);
  });

  it('never records Authorization or Cookie, even when asked to', async () => {
    receiver = await startOtlpReceiver();
    app = await startApp('esm-app.mjs', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTELKIT_HTTP_REQUEST_HEADERS: 'x-request-id,authorization,cookie',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
    });
    await fetch(`http://127.0.0.1:${app.port}/hello`, {
      headers: { 'x-request-id': 'req-1', authorization: 'Bearer secret-token', cookie: 'session=secret-cookie' },
    }).then((r) => r.text());
    app.child.kill('SIGTERM');
    await app.exited;
    const span = receiver.spans.find((s) => s.kind === SERVER);
    expect(span?.attributes['http.request.header.x-request-id']).toEqual({ arrayValue: { values: [{ stringValue: 'req-1' }] } });
    const all = JSON.stringify(span);
    expect(all).not.toContain('secret-token');
    expect(all).not.toContain('secret-cookie');
  });
});
