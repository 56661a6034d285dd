import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel, isMainThread, threadId, type Worker as ThreadWorker } from 'node:worker_threads';
import { describeError, reportOnce } from '@otelkit/core';
import type { ChildAgent } from './agent.js';
import type { ProcessGroup } from './group.js';
import type { ChildMessage, ParentMessage } from './protocol.js';

/**
 * The ways between parents and children. Cluster: the worker's IPC channel, with messages whose
 * `cmd` starts with `NODE_` so Node routes them as internal messages: the app's own `message`
 * listeners never see them and they keep nothing alive. Threads: a `BroadcastChannel` (unref'd),
 * never the app's own `parentPort`. Instances with no otelkit parent (PM2's cluster mode): a local
 * socket, whose owner is the elected hub.
 */
const CLUSTER_CMD = 'NODE_OTELKIT';
const THREAD_CHANNEL = 'otelkit:processes';
/** Set in the primary's environment (inherited by `cluster.fork()`): the pid of an otelkit primary. */
export const PRIMARY_ENV = 'OTELKIT_CLUSTER_PRIMARY';

type Envelope = { cmd: typeof CLUSTER_CMD; m: ParentMessage | ChildMessage };
type ThreadEnvelope = { to: number; from: number; m: ParentMessage | ChildMessage };

function isEnvelope(message: unknown): message is Envelope {
  return typeof message === 'object' && message !== null && (message as { cmd?: unknown }).cmd === CLUSTER_CMD;
}

/**
 * The primary's side: every cluster worker (forked now or later) joins `group`; its disconnection or
 * exit starts its departure (only its exit frees its port in per-worker mode).
 */
export function followClusterWorkers(group: ProcessGroup, graceMs: number): () => void {
  const detach = new Map<ClusterWorker, () => void>();
  const attach = (worker: ClusterWorker): void => {
    const key = `w${worker.id}`;
    const channel = {
      send: (m: ParentMessage): boolean => {
        if (!worker.isConnected()) return false;
        // With a callback, a failed write (the worker just died) is reported here, never as an 'error' event the app would see.
        return worker.process.send({ cmd: CLUSTER_CMD, m } satisfies Envelope, undefined, {}, () => undefined);
      },
    };
    const onMessage = (message: unknown): void => {
      if (isEnvelope(message)) group.receive(key, message.m, channel);
    };
    worker.process.on('internalMessage', onMessage);
    detach.set(worker, () => worker.process.removeListener('internalMessage', onMessage));
  };
  const onDisconnect = (worker: ClusterWorker): void => group.depart(`w${worker.id}`, graceMs, false);
  const onExit = (worker: ClusterWorker): void => {
    group.depart(`w${worker.id}`, graceMs, true);
    detach.get(worker)?.();
    detach.delete(worker);
  };
  for (const worker of Object.values(cluster.workers ?? {})) if (worker) attach(worker);
  cluster.on('fork', attach);
  cluster.on('disconnect', onDisconnect);
  cluster.on('exit', onExit);
  return () => {
    cluster.removeListener('fork', attach);
    cluster.removeListener('disconnect', onDisconnect);
    cluster.removeListener('exit', onExit);
    for (const undo of detach.values()) undo();
    detach.clear();
  };
}

/** A cluster worker's side: talks to the otelkit primary over the IPC channel. */
export function clusterParentLink(agent: () => ChildAgent): { send: (m: ChildMessage) => void; close: () => void } {
  const onMessage = (message: unknown): void => {
    if (isEnvelope(message)) agent().receive(message.m);
  };
  process.on('internalMessage' as 'message', onMessage);
  return {
    send: (m) => {
      // With a callback, a failed write is dropped here instead of becoming an 'error' event on process.
      if (process.connected) process.send?.({ cmd: CLUSTER_CMD, m } satisfies Envelope, undefined, {}, () => undefined);
    },
    close: () => process.removeListener('internalMessage' as 'message', onMessage),
  };
}

/** Whether this cluster worker's primary runs otelkit (it says so in the environment it forks with). */
export function hasOtelkitPrimary(): boolean {
  return cluster.isWorker && process.env[PRIMARY_ENV] === String(process.ppid);
}

/** The main thread's side: threads the app starts join `group`; their exit leaves it. */
export function followThreads(group: ProcessGroup, graceMs: number): () => void {
  let channel: BroadcastChannel | undefined;
  const open = (): BroadcastChannel => {
    if (channel) return channel;
    const opened = new BroadcastChannel(THREAD_CHANNEL);
    opened.unref();
    opened.onmessage = (event: unknown) => {
      const envelope = (event as { data: ThreadEnvelope | undefined }).data;
      if (envelope?.to !== threadId) return;
      const from = envelope.from;
      group.receive(`t${from}`, envelope.m, { send: (m) => opened.postMessage({ to: from, from: threadId, m } satisfies ThreadEnvelope) });
    };
    return (channel = opened);
  };
  const onWorker = (worker: ThreadWorker): void => {
    open();
    const id = worker.threadId;
    worker.once('exit', () => group.depart(`t${id}`, graceMs, true));
  };
  process.on('worker', onWorker);
  return () => {
    process.removeListener('worker', onWorker);
    channel?.close();
  };
}

/** A thread's side: talks to the main thread over the broadcast channel. */
export function threadParentLink(agent: () => ChildAgent): { send: (m: ChildMessage) => void; close: () => void } {
  const channel = new BroadcastChannel(THREAD_CHANNEL);
  channel.unref();
  channel.onmessage = (event) => {
    const envelope = (event as { data: ThreadEnvelope | undefined }).data;
    if (envelope?.to === threadId) agent().receive(envelope.m);
  };
  return { send: (m) => channel.postMessage({ to: 0, from: threadId, m } satisfies ThreadEnvelope), close: () => channel.close() };
}

/**
 * This process or thread's label among its peers: `thread-<id>`; the cluster worker id under an
 * otelkit primary; else PM2's instance number (instances without an otelkit primary), else the id.
 */
export function ownWorkerLabel(): string | undefined {
  if (!isMainThread) return `thread-${threadId}`;
  if (!cluster.isWorker) return undefined;
  const id = String(cluster.worker?.id ?? process.pid);
  return hasOtelkitPrimary() ? id : (pm2Instance() ?? id);
}

/**
 * PM2's instance number (`NODE_APP_INSTANCE`). PM2 sets it in the process environment only once its
 * container has started the app, after the preload: before, it is in the `pm2_env` JSON.
 */
export function pm2Instance(): string | undefined {
  if (process.env.NODE_APP_INSTANCE !== undefined) return process.env.NODE_APP_INSTANCE;
  const instance = pm2Env()?.NODE_APP_INSTANCE;
  return instance === undefined || instance === null ? undefined : String(instance);
}

/** PM2's app name, where PM2 started this process. */
export function pm2AppName(): string | undefined {
  const name = pm2Env()?.name;
  return typeof name === 'string' ? name : undefined;
}

function pm2Env(): { NODE_APP_INSTANCE?: unknown; name?: unknown } | undefined {
  const raw = process.env.pm2_env;
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as { NODE_APP_INSTANCE?: unknown; name?: unknown };
  } catch {
    return undefined;
  }
}

const MAX_LINE = 64 * 1024 * 1024;

/** Newline-delimited JSON over a socket: `onMessage` per line; a line over 64 MiB closes the socket. */
export function jsonLines(socket: Socket, onMessage: (message: unknown) => void): (message: unknown) => void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    // Only the new chunk is searched for the end of a line (a long line arrives in many chunks).
    let end = chunk.indexOf('\n');
    if (end >= 0) end += buffered.length;
    buffered += chunk;
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
      try {
        onMessage(JSON.parse(line));
      } catch (error) {
        reportOnce('processes.socket.parse', `an unreadable message on the aggregation socket was ignored: ${describeError(error)}`);
      }
    }
    if (buffered.length > MAX_LINE) {
      reportOnce('processes.socket.size', 'a message on the aggregation socket exceeded 64 MiB; the connection was closed');
      socket.destroy();
    }
  });
  socket.on('error', () => {});
  return (message) => {
    if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n');
  };
}

/**
 * The local socket instances without an otelkit parent elect their hub on: whoever listens first.
 * Linux: an abstract socket (no file, nothing left behind); elsewhere a file in the temp directory.
 */
export function hubSocketPath(app: string, host: string, port: number): string {
  const user = process.getuid?.() ?? 'u';
  // The app's name is part of it (hashed: socket paths are short on some systems): two apps left on
  // the same port never elect one hub between them.
  const app_ = createHash('sha256').update(`${app}\0${host}`).digest('hex').slice(0, 12);
  const name = `otelkit-${user}-${app_}-${port}`;
  if (process.platform === 'win32') return `\\\\.\\pipe\\${name}`;
  return process.platform === 'linux' ? `\0${name}` : join(tmpdir(), `${name}.sock`);
}

/** Listens on the hub socket; resolves with the server, or undefined when another process holds it. */
export function listenHub(path: string, onConnection: (socket: Socket) => void): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.unref();
      onConnection(socket);
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') reportOnce('processes.hub.listen', `the metrics hub socket could not listen: ${describeError(error)}`);
      resolve(undefined);
    });
    // Exclusive: in a cluster worker, bind the socket itself (a shared handle would let every instance win).
    server.listen({ path, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Connects to the hub socket; resolves with the socket, or undefined when no hub listens. */
export function connectHub(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.unref();
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // A socket file left by a hub that died: remove it so the next election can listen.
      if (error.code === 'ECONNREFUSED' && !path.startsWith('\0') && process.platform !== 'win32') {
        try {
          rmSync(path, { force: true });
        } catch (removal) {
          reportOnce('processes.hub.stale', `a stale metrics hub socket could not be removed: ${describeError(removal)}`);
        }
      }
      resolve(undefined);
    });
  });
}
