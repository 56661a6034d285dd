import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
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

/** The primary's side: every cluster worker (forked now or later) joins `group`; its exit leaves it. */
export function followClusterWorkers(group: ProcessGroup, graceMs: number): () => void {
  const attach = (worker: ClusterWorker): void => {
    const key = `w${worker.id}`;
    const channel = { send: (m: ParentMessage) => void worker.process.send?.({ cmd: CLUSTER_CMD, m } satisfies Envelope) };
    worker.process.on('internalMessage', (message: unknown) => {
      if (isEnvelope(message)) group.receive(key, message.m, channel);
    });
  };
  const onExit = (worker: ClusterWorker): void => group.depart(`w${worker.id}`, graceMs);
  for (const worker of Object.values(cluster.workers ?? {})) if (worker) attach(worker);
  cluster.on('fork', attach);
  cluster.on('exit', onExit);
  return () => {
    cluster.removeListener('fork', attach);
    cluster.removeListener('exit', onExit);
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
      if (process.connected) process.send?.({ cmd: CLUSTER_CMD, m } satisfies Envelope);
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
    opened.onmessage = (event) => {
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
    worker.once('exit', () => group.depart(`t${id}`, graceMs));
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

/** This process or thread's label among its peers: cluster worker id (PM2: instance number), thread id. */
export function ownWorkerLabel(): string | undefined {
  if (!isMainThread) return `thread-${threadId}`;
  if (!cluster.isWorker) return undefined;
  return pm2Instance() ?? String(cluster.worker?.id ?? process.pid);
}

/**
 * PM2's instance number (`NODE_APP_INSTANCE`). PM2 sets it in the process environment only once its
 * container has started the app, after the preload: before, it is in the `pm2_env` JSON.
 */
export function pm2Instance(): string | undefined {
  if (process.env.NODE_APP_INSTANCE !== undefined) return process.env.NODE_APP_INSTANCE;
  const raw = process.env.pm2_env;
  if (raw === undefined) return undefined;
  try {
    const instance = (JSON.parse(raw) as { NODE_APP_INSTANCE?: unknown }).NODE_APP_INSTANCE;
    return instance === undefined || instance === null ? undefined : String(instance);
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
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
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
export function hubSocketPath(host: string, port: number): string {
  const user = process.getuid?.() ?? 'u';
  const name = `otelkit-${user}-${host}-${port}`;
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
      if (error.code === 'ECONNREFUSED' && !path.startsWith('\0') && process.platform !== 'win32') rmSync(path, { force: true });
      resolve(undefined);
    });
  });
}
