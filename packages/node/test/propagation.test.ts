import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startApp } from './support.js';

// A downstream service that keeps the headers of every request it gets.
const received: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
const downstream = createServer((incoming, response) => {
  received.push({ path: incoming.url ?? '', headers: incoming.headers });
  response.end('downstream');
});
beforeAll(() => new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => downstream.close(() => resolve())));

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

/** Sends one request with a traceparent through the app, and returns what came back and went out. */
async function throughApp(env: Record<string, string>, flags: string) {
  received.length = 0;
  const app = await startApp('propagating-app.mjs', {
    OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    DOWNSTREAM_PORT: String((downstream.address() as AddressInfo).port),
    ...env,
  });
  try {
    const response = await fetch(`http://127.0.0.1:${app.port}/`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-${flags}` } });
    expect(response.status).toBe(200);
    return { traceresponse: response.headers.get('traceresponse'), outgoing: received.map((r) => ({ path: r.path, traceparent: r.headers.traceparent })) };
  } finally {
    await app.stop();
  }
}

describe('trace context without recorded spans (no trace exporter)', () => {
  for (const [mode, env] of [
    ['default (no endpoint)', { OTEL_TRACES_EXPORTER: '' }],
    ['metrics only (sampler always_off)', { OTEL_TRACES_EXPORTER: '', OTEL_TRACES_SAMPLER: 'always_off' }],
  ] as const) {
    it(`${mode}: carries the caller's trace id to node:http, named-import get and fetch calls, and back in traceresponse`, async () => {
      const { traceresponse, outgoing } = await throughApp(env, '01');
      const [, traceId, spanId, flags] = traceresponse!.split('-');
      expect(traceId).toBe(TRACE_ID);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(spanId).not.toBe(CALLER_SPAN);
      const expectedFlags = mode.startsWith('metrics') ? '00' : '01';
      expect(flags).toBe(expectedFlags);
      expect(outgoing.map((o) => o.path).sort()).toEqual(['/fetch', '/named-get', '/request']);
      for (const call of outgoing) expect(call.traceparent).toBe(`00-${TRACE_ID}-${spanId}-${expectedFlags}`);
    });
  }

  it('puts traceparent on node:https requests too', async () => {
    const app = await startApp('propagating-app.mjs', { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_PROMETHEUS_PORT: '0', DOWNSTREAM_PORT: '1' });
    try {
      const response = await fetch(`http://127.0.0.1:${app.port}/https-probe`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } });
      const spanId = response.headers.get('traceresponse')!.split('-')[2];
      expect(await response.text()).toBe(`00-${TRACE_ID}-${spanId}-01`);
    } finally {
      await app.stop();
    }
  });

  it('follows the caller when it did not sample (parent-based default)', async () => {
    const { traceresponse, outgoing } = await throughApp({ OTEL_TRACES_EXPORTER: '' }, '00');
    expect(traceresponse).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(outgoing.every((call) => String(call.traceparent).endsWith('-00'))).toBe(true);
  });

  for (const esmLoader of ['auto', 'never']) {
  it(`with spans recorded (console exporter), keeps the trace id on every outgoing call too (OTELKIT_ESM_LOADER=${esmLoader})`, async () => {
    // auto: the loader is on for this fixture and hooks node:http's ES-module imports; never: the
    // built-ins are required once after instrumentation-http is registered.
    const { traceresponse, outgoing } = await throughApp({ OTEL_TRACES_EXPORTER: 'console', OTELKIT_ESM_LOADER: esmLoader }, '01');
    expect(traceresponse).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(outgoing).toHaveLength(3);
    for (const call of outgoing) expect(call.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    // Client spans: the node:http calls' parent ids are their own client spans, not the server span.
    const serverSpan = traceresponse!.split('-')[2];
    expect(outgoing.filter((call) => call.path !== '/fetch' && !call.traceparent?.includes(`-${serverSpan}-`))).toHaveLength(2);
  });
  }

  it('starts a new trace for a request without traceparent, and sends it downstream', async () => {
    received.length = 0;
    const app = await startApp('propagating-app.mjs', { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_PROMETHEUS_PORT: '0', DOWNSTREAM_PORT: String((downstream.address() as AddressInfo).port) });
    try {
      const response = await request(`http://127.0.0.1:${app.port}/`);
      const [, traceId, spanId] = response.headers.get('traceresponse')!.split('-');
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(received).toHaveLength(3);
      for (const call of received) expect(call.headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      await app.stop();
    }
  });
});
