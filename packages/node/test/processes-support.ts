import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { expect } from 'vitest';
import { total } from '../../../test-support/prometheus-text.js';
import { parseSamples, request, type Sample } from './support.js';

// Helpers of the several-processes tests (processes.test.ts, pm2.test.ts).

export const COUNT = 'http_server_request_duration_seconds_count';
/** The app's own requests (the fixture answers its test-only paths with 202). */
export const USERS = { http_response_status_code: '200' };

export async function scrape(port: number): Promise<Sample[]> {
  return parseSamples((await request(`http://127.0.0.1:${port}/metrics`)).body);
}

/** The sum of the samples named `name` whose labels include `where` (shared with the reliability suite). */
export const sum = total;

/** The pids of processes listening on TCP `port` (from /proc: the socket's inode, then who holds it). */
export function listenersOf(port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is field 9.
      if (fields[3] === '0A' && parseInt(fields[1]?.split(':')[1] ?? '', 16) === port) inodes.add(fields[9]!);
    }
  }
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (inodes.has(target.slice('socket:['.length, -1))) pids.push(Number(pid));
      }
    } catch {
      // a process that ended meanwhile, or one we may not read
    }
  }
  return [...new Set(pids)];
}

/** Sends `n` GETs to distinct /users/:id paths, `concurrency` at a time, each on a new connection (so spread over the workers). */
export async function traffic(port: number, n: number, concurrency = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const id = next++;
        expect((await getOnNewConnection(port, `/users/${id}`)).status).toBe(200);
      }
    }),
  );
}

/** The pids of the cluster's workers, found by asking until `workers` distinct ones answered. */
export async function workerPids(port: number, workers: number): Promise<number[]> {
  const pids = new Set<number>();
  for (let i = 0; i < 400 && pids.size < workers; i++) pids.add(Number((await getOnNewConnection(port, '/__pid')).body));
  return [...pids];
}

/** A GET on a connection of its own: the cluster hands connections, not requests, to its workers. */
export function getOnNewConnection(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A connection the primary handed to a worker that just died is never answered: give up on it.
    get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('timeout', function (this: ClientRequest) {
        this.destroy(new Error(`GET ${path} timed out`));
      })
      .on('error', reject);
  });
}


/** A port `p` such that p .. p + count - 1 were all free (held together while checked). */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const held: Server[] = [];
    const listen = (port: number) =>
      new Promise<number | undefined>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(undefined));
        server.listen(port, '127.0.0.1', () => {
          held.push(server);
          resolve((server.address() as { port: number }).port);
        });
      });
    const base = await listen(0);
    let ok = base !== undefined && base + count - 1 <= 65535;
    for (let i = 1; ok && i < count; i++) ok = (await listen(base! + i)) !== undefined;
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    if (ok) return base!;
  }
  throw new Error(`no ${count} consecutive free ports`);
}
