import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, Pool, request } from 'undici';
import { instrumentUndici, poolReadinessCheck } from '../src/index.js';
import { bindAutomatically } from '../src/pool-handle.js';
import { captureDiagnostics, createTestMeterProvider, valueOf, waitFor } from './helpers.js';

const { reader, provider } = createTestMeterProvider({ global: true });
const diagnostics = captureDiagnostics();

let server: Server;
let origin: string;
let port: number;
const held: ServerResponse[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
});

const releaseHeld = () => {
  for (const res of held.splice(0)) res.end('done');
};

describe('instrumentUndici', () => {
  it('Pool: 3 active, 0 idle, 7 queued under 10 slow requests; then 0 active, 3 idle', async () => {
    const pool = new Pool(origin, { connections: 3 });
    const handle = instrumentUndici(pool);
    expect(handle.poolName).toBe(origin);
    const match = { 'server.address': '127.0.0.1', 'server.port': port, 'url.scheme': 'http' };
    const requests = Array.from({ length: 10 }, () => pool.request({ path: '/slow', method: 'GET' }).then((r) => r.body.text()));
    await waitFor(() => held.length === 3 && pool.stats.queued === 7, 10_000, 'undici saturation');
    const during = await reader.metrics();
    expect(valueOf(during, 'http.client.open_connections', { ...match, 'http.connection.state': 'active' })).toBe(3);
    expect(valueOf(during, 'http.client.open_connections', { ...match, 'http.connection.state': 'idle' })).toBe(0);
    expect(valueOf(during, 'http.client.queued_requests', match)).toBe(7);
    expect(valueOf(during, 'http.client.connection.utilization', match)).toBe(1);
    expect(await poolReadinessCheck(handle)()).toMatchObject({ ready: false });
    while (held.length > 0 || pool.stats.queued > 0) {
      releaseHeld();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(requests);
    const after = await reader.metrics();
    expect(valueOf(after, 'http.client.open_connections', { ...match, 'http.connection.state': 'active' })).toBe(0);
    expect(valueOf(after, 'http.client.open_connections', { ...match, 'http.connection.state': 'idle' })).toBe(3);
    expect(valueOf(after, 'http.client.queued_requests', match)).toBe(0);
    expect(await poolReadinessCheck(handle)()).toMatchObject({ ready: true });
    handle.unbind();
    expect(instrumentUndici(pool).bound).toBe(true);
    await pool.close();
  });

  it('Agent: one series per origin; binding twice is harmless and unbind adds nothing back', async () => {
    const agent = new Agent({ connections: 2 });
    const before = agent.eventNames().map((name) => [name, agent.listenerCount(name)]);
    const handle = instrumentUndici(agent, { poolName: 'agent' });
    expect(instrumentUndici(agent)).toBe(handle);
    const response = await request(`${origin}/fast`, { dispatcher: agent });
    await response.body.text();
    const metrics = await reader.metrics();
    const match = { 'server.address': '127.0.0.1', 'server.port': port, 'http.connection.state': 'idle' };
    await waitFor(() => (agent.stats[origin] as { free?: number } | undefined)?.free === 1, 5_000, 'agent idle');
    expect(valueOf(await reader.metrics(), 'http.client.open_connections', match)).toBe(1);
    expect(metrics.length).toBeGreaterThan(0);
    handle.unbind();
    expect(agent.eventNames().map((name) => [name, agent.listenerCount(name)])).toEqual(before);
    await agent.close();
  });

  it('two dispatchers to one origin are summed into its series, not written over each other', async () => {
    const first = new Pool(origin, { connections: 2 });
    const second = new Pool(origin, { connections: 3 });
    const handles = [instrumentUndici(first), instrumentUndici(second)];
    for (const pool of [first, second]) await (await request(`${origin}/fast`, { dispatcher: pool })).body.text();
    await waitFor(() => first.stats.free === 1 && second.stats.free === 1, 5_000, 'both idle');
    const match = { 'server.address': '127.0.0.1', 'server.port': port, 'http.connection.state': 'idle' };
    expect(valueOf(await reader.metrics(), 'http.client.open_connections', match)).toBe(2);
    handles[0]!.unbind();
    expect(valueOf(await reader.metrics(), 'http.client.open_connections', match)).toBe(1);
    handles[1]!.unbind();
    await first.close();
    await second.close();
  });

  it('an explicit poolName replaces the zero-code binding (it was ignored before)', async () => {
    const pool = new Pool(origin, { connections: 2 });
    const automatic = bindAutomatically(() => instrumentUndici(pool));
    expect(automatic.poolName).toBe(origin);
    const handle = instrumentUndici(pool, { poolName: 'payments-api' });
    expect(handle.poolName).toBe('payments-api');
    expect(automatic.bound).toBe(false);
    handle.unbind();
    await pool.close();
  });

  it('a bad argument gets one diagnostic and a no-op handle', () => {
    for (const bad of [null, {}, 'http://x']) expect(instrumentUndici(bad as never).bound).toBe(false);
    expect(diagnostics.filter((line) => line.includes('undici pool bridge'))).toHaveLength(1);
  });
});
