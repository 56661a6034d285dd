import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, freePort, parseSamples, request, startApp, type RunningApp } from './support.js';

// The diagnostics_channel path counts each request exactly once, however it ends.
let app: RunningApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function start(env: Record<string, string> = {}) {
  const metricsPort = await freePort();
  app = await startApp('esm-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...env });
  const scrape = async () => parseSamples((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body);
  const count = async (labels: Record<string, string>) =>
    (await scrape())
      .filter((s) => s.name === 'http_server_request_duration_seconds_count' && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  const active = async () => (await scrape()).filter((s) => s.name === 'http_server_active_requests').reduce((sum, s) => sum + s.value, 0);
  return { port: app.port, count, active };
}

function get(port: number, path: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('HTTP server requests through diagnostics_channel', () => {
  it('counts N requests for N sent, with keep-alive and without', async () => {
    const { port, count, active } = await start();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
    for (let i = 0; i < 12; i++) expect(await get(port, '/', keepAlive)).toBe(200);
    for (let i = 0; i < 8; i++) expect(await get(port, '/', false)).toBe(200);
    keepAlive.destroy();
    expect(await count({ http_response_status_code: '200' })).toBe(20);
    expect(await active()).toBe(0);
  });

  it('counts a request the client aborts once, with error.type=aborted and no status code', async () => {
    const { port, count, active } = await start();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await eventually(async () => ((await count({ error_type: 'aborted' })) === 1 ? true : undefined));
    expect(await count({})).toBe(1);
    expect(await count({ error_type: 'aborted', http_response_status_code: '200' })).toBe(0);
    expect(await active()).toBe(0);
  });

  it('counts pipelined requests whose connection closes before they are answered', async () => {
    const { port, count, active } = await start();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await eventually(async () => ((await count({})) === 2 ? true : undefined));
    expect(await count({ error_type: 'aborted' })).toBe(2);
    expect(await active()).toBe(0);
  });

  it('counts each request once when spans are recorded too (instrumentation-http loaded for clients)', async () => {
    const { port, count } = await start({ OTEL_TRACES_EXPORTER: 'console' });
    const agent = new Agent({ keepAlive: true });
    for (let i = 0; i < 10; i++) expect(await get(port, '/', agent)).toBe(200);
    agent.destroy();
    expect(await count({ http_response_status_code: '200' })).toBe(10);
  });
});
