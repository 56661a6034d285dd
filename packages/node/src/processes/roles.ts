import cluster from 'node:cluster';
import type { AddressInfo, Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { METRIC_CATALOG } from '@otelkit/core';
import type { OtelkitConfig } from '../config.js';
import type { Collection } from '../prometheus/exposition.js';
import { ChildAgent } from './agent.js';
import { ProcessGroup } from './group.js';
import type { ChildMessage } from './protocol.js';
import {
  clusterParentLink,
  connectHub,
  followClusterWorkers,
  followThreads,
  hasOtelkitPrimary,
  hubSocketPath,
  jsonLines,
  listenHub,
  ownWorkerLabel,
  pm2Instance,
  PRIMARY_ENV,
  threadParentLink,
} from './links.js';
import { toScopeMetrics, toSnapshot, type GaugeCombine, type Snapshot } from './snapshot.js';

/** What the SDK gives the process role. */
export type RoleHost = {
  config: OtelkitConfig;
  /** Listens on the metrics/health port `port` (the configured one, or per-worker `port + index`). */
  listen(port: number): Promise<AddressInfo | undefined>;
  /** This process's own collection (no children), for Prometheus. */
  collectOwn(timeoutMs: number): Promise<Collection>;
  /** Whether this process's own readiness checks pass. */
  ready(): Promise<boolean>;
  /** Adds a readiness check (the primary's "enough workers ready"). */
  addReadinessCheck(name: string, check: () => Promise<{ ready: boolean; detail: string }>): void;
};

/** Where this process or thread stands among its peers, and how its `/metrics` is made. */
export interface ProcessRole {
  /** Resolves once the metrics/health port listens (undefined when this process serves none). */
  readonly ready: Promise<AddressInfo | undefined>;
  /** The collection behind `/metrics`: this process's own, or the aggregate of its group. */
  collect(timeoutMs: number): Promise<Collection>;
  /** Hands this process's final counts to its parent and closes the links. */
  stop(timeoutMs: number): Promise<void>;
}

/** How long a starting instance that finds no hub waits before standing itself (see ElectedRole). */
const NEWCOMER_WAIT_MS = 500;

const combine: GaugeCombine = (() => {
  const summed = new Set(METRIC_CATALOG.filter((definition) => definition.acrossProcesses === 'sum').map((definition) => definition.name));
  return (name) => (summed.has(name) ? 'sum' : undefined);
})();

/**
 * The role of this process or thread, from where it runs:
 * - a thread: reports to its process's main thread, serves no port;
 * - a cluster worker whose primary runs otelkit: reports to the primary (per-worker mode: listens on
 *   `port + the index the primary gives it`);
 * - a cluster worker without one (PM2's cluster mode): the instances elect a hub that serves the
 *   aggregate (per-worker mode: `port + NODE_APP_INSTANCE`);
 * - anything else (a single process, a cluster primary): serves the port, aggregating the cluster
 *   workers and threads that report to it.
 * With Prometheus off, no aggregation: each process serves its own health (no port clash: workers serve none).
 */
export function startProcessRole(host: RoleHost): ProcessRole {
  const { config } = host;
  const prometheus = config.metricsExporters.includes('prometheus');
  if (!isMainThread) return prometheus ? new ChildRole(host, 'thread') : silent();
  if (cluster.isWorker) {
    if (config.clusterMode === 'per-worker') return new ChildRole(host, 'per-worker');
    if (!prometheus) return silent();
    return hasOtelkitPrimary() ? new ChildRole(host, 'cluster') : new ElectedRole(host);
  }
  return new MainRole(host, prometheus);
}

function silent(): ProcessRole {
  return { ready: Promise.resolve(undefined), collect: () => Promise.reject(new Error('this process serves no metrics')), stop: async () => {} };
}

/** A collection as the aggregate of a group (own collection first: its resource is the target's). */
async function groupCollection(group: ProcessGroup, host: RoleHost, ownLabel: string, timeoutMs: number, deadlineMs: number): Promise<Collection & { own: Snapshot }> {
  let ownCollection: Collection | undefined;
  const { merged, own } = await group.collect(
    async () => {
      ownCollection = await host.collectOwn(timeoutMs);
      return toSnapshot(ownCollection.resourceMetrics);
    },
    ownLabel,
    deadlineMs,
  );
  const resource = ownCollection!.resourceMetrics.resource;
  return { resourceMetrics: { resource, scopeMetrics: toScopeMetrics(merged) }, errors: ownCollection!.errors, own };
}

/** A single process or a cluster primary: serves the port; aggregates cluster workers and threads. */
class MainRole implements ProcessRole {
  readonly ready: Promise<AddressInfo | undefined>;
  private readonly group: ProcessGroup;
  private readonly unfollow: Array<() => void> = [];

  constructor(
    private readonly host: RoleHost,
    prometheus: boolean,
  ) {
    // Workers forked from here know their primary runs otelkit (and so never bind the port).
    process.env[PRIMARY_ENV] = String(process.pid);
    this.group = new ProcessGroup(combine, () => addWorkersCheck(host, this.group, (key) => key.startsWith('w')));
    this.unfollow.push(followClusterWorkers(this.group, host.config.clusterTimeoutMs));
    if (prometheus) this.unfollow.push(followThreads(this.group, host.config.clusterTimeoutMs));
    this.ready = host.listen(host.config.prometheusPort);
  }

  async collect(timeoutMs: number): Promise<Collection> {
    if (!this.group.active) return this.host.collectOwn(timeoutMs);
    return groupCollection(this.group, this.host, Object.keys(cluster.workers ?? {}).length > 0 ? 'primary' : 'main', timeoutMs, this.deadline(timeoutMs));
  }

  private deadline(timeoutMs: number): number {
    return Math.min(this.host.config.clusterTimeoutMs, timeoutMs);
  }

  async stop(): Promise<void> {
    for (const unfollow of this.unfollow.splice(0)) unfollow();
    if (process.env[PRIMARY_ENV] === String(process.pid)) delete process.env[PRIMARY_ENV];
  }
}

/** A thread, or a cluster worker under an otelkit primary: answers its parent; per-worker mode listens on its own port. */
class ChildRole implements ProcessRole {
  readonly ready: Promise<AddressInfo | undefined>;
  private readonly agent: ChildAgent;
  private readonly link: { send: (m: ChildMessage) => void; close: () => void } | undefined;
  private readonly threads: ProcessGroup | undefined;
  private readonly unfollow: Array<() => void> = [];
  private stopped = false;

  constructor(
    private readonly host: RoleHost,
    kind: 'thread' | 'cluster' | 'per-worker',
  ) {
    let resolveSlot: (index: number) => void = () => {};
    const slot = new Promise<number>((resolve) => (resolveSlot = resolve));
    this.agent = new ChildAgent((m) => this.link?.send(m), {
      snapshot: () => this.collect(host.config.clusterTimeoutMs).then((collection) => toSnapshot(collection.resourceMetrics)),
      ready: () => host.ready(),
      slot: resolveSlot,
    });
    const label = ownWorkerLabel() ?? String(process.pid);
    if (kind === 'thread') {
      this.link = threadParentLink(() => this.agent);
      this.agent.hello(label, false);
      // A thread whose work is done hands over its final counts before it ends.
      const onBeforeExit = (): void => void this.stop(host.config.clusterTimeoutMs);
      process.once('beforeExit', onBeforeExit);
      this.unfollow.push(() => process.removeListener('beforeExit', onBeforeExit));
      this.ready = Promise.resolve(undefined);
      return;
    }
    // A worker process: its own threads report to it.
    this.threads = new ProcessGroup(combine);
    this.unfollow.push(followThreads(this.threads, host.config.clusterTimeoutMs));
    if (kind === 'cluster') {
      this.link = clusterParentLink(() => this.agent);
      this.agent.hello(label, false);
      this.ready = Promise.resolve(undefined);
      return;
    }
    // Per-worker: the otelkit primary hands out indexes (a replaced worker gets its predecessor's);
    // without one, PM2's instance number, else the cluster worker id.
    if (hasOtelkitPrimary()) {
      this.link = clusterParentLink(() => this.agent);
      this.agent.hello(label, true);
    } else {
      const index = Number(pm2Instance() ?? cluster.worker?.id ?? 0);
      resolveSlot(Number.isInteger(index) ? index : 0);
    }
    const port = host.config.prometheusPort;
    this.ready = slot.then((index) => host.listen(port === 0 ? 0 : port + index));
  }

  collect(timeoutMs: number): Promise<Collection> {
    if (!this.threads?.active) return this.host.collectOwn(timeoutMs);
    return groupCollection(this.threads, this.host, 'main', timeoutMs, Math.min(this.host.config.clusterTimeoutMs, timeoutMs));
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const unfollow of this.unfollow.splice(0)) unfollow();
    if (this.link) {
      await this.agent.bye(timeoutMs);
      this.link.close();
    }
  }
}

/**
 * An instance with no otelkit parent (PM2's cluster mode, or a primary that does not run otelkit):
 * the instances elect a hub on a local socket. The hub serves the port and the aggregate; the others
 * answer it. After each scrape the hub gives every instance its heir (its own counts and those of
 * instances gone before), so when the hub itself dies, the instance elected next starts from them and
 * the sums still never go backwards (bar what the hub counted since its last scrape).
 */
class ElectedRole implements ProcessRole {
  readonly ready: Promise<AddressInfo | undefined>;
  private readonly path: string;
  private readonly label: string;
  private readonly agent: ChildAgent;
  private readonly threads = new ProcessGroup(combine);
  private group: ProcessGroup | undefined;
  private send: ((message: ChildMessage) => void) | undefined;
  private closeLink: (() => void) | undefined;
  private stopped = false;
  private waited = false;
  private connections = 0;
  private readonly unfollow: Array<() => void> = [];

  constructor(private readonly host: RoleHost) {
    this.path = hubSocketPath(host.config.prometheusHost, host.config.prometheusPort);
    this.label = ownWorkerLabel() ?? String(process.pid);
    this.agent = new ChildAgent((m) => this.send?.(m), {
      snapshot: () => this.collectOwnAndThreads(host.config.clusterTimeoutMs).then((collection) => toSnapshot(collection.resourceMetrics)),
      ready: () => host.ready(),
    });
    this.unfollow.push(followThreads(this.threads, host.config.clusterTimeoutMs));
    this.ready = this.elect();
  }

  private async elect(): Promise<AddressInfo | undefined> {
    if (this.stopped) return undefined;
    // An instance that holds counts of a hub gone (an heir) stands first; a new one (just started,
    // perhaps the dead hub's replacement) finding no hub waits a moment so a survivor can take over.
    if (this.agent.heir === undefined && !this.waited) {
      this.waited = true;
      const socket = await connectHub(this.path);
      if (socket !== undefined) return this.joinHub(socket);
      await new Promise((resolve) => setTimeout(resolve, NEWCOMER_WAIT_MS).unref());
    }
    const server = await listenHub(this.path, (socket) => this.accept(socket));
    if (server !== undefined) {
      this.closeLink = () => server.close();
      return this.becomeHub();
    }
    const socket = await connectHub(this.path);
    if (socket === undefined) return this.retry();
    return this.joinHub(socket);
  }

  private joinHub(socket: Socket): undefined {
    this.send = jsonLines(socket, (message) => this.agent.receive(message));
    this.closeLink = () => socket.destroy();
    socket.once('close', () => {
      this.send = undefined;
      void this.retry();
    });
    this.agent.hello(this.label, false);
    return undefined;
  }

  /** Elects again a moment later (jittered, so the instances do not all race at once). */
  private retry(): Promise<AddressInfo | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => setTimeout(() => resolve(this.elect()), Math.random() * 50).unref());
  }

  private becomeHub(): Promise<AddressInfo | undefined> {
    const group = (this.group = new ProcessGroup(combine, () => addWorkersCheck(this.host, group, (key) => key.startsWith('s'))));
    if (this.agent.heir) group.adopt(this.agent.heir);
    return this.host.listen(this.host.config.prometheusPort);
  }

  private accept(socket: Socket): void {
    const key = `s${++this.connections}`;
    const group = this.group;
    if (!group) return void socket.destroy();
    const send = jsonLines(socket, (message) => group.receive(key, message, { send }));
    socket.once('close', () => group.leave(key));
  }

  async collect(timeoutMs: number): Promise<Collection> {
    const group = this.group;
    if (!group) return this.collectOwnAndThreads(timeoutMs);
    const collection = await groupCollection(group, { ...this.host, collectOwn: (t) => this.collectOwnAndThreads(t) }, this.label, timeoutMs, Math.min(this.host.config.clusterTimeoutMs, timeoutMs));
    group.broadcastHeir(group.heir(collection.own));
    return collection;
  }

  private collectOwnAndThreads(timeoutMs: number): Promise<Collection> {
    if (!this.threads.active) return this.host.collectOwn(timeoutMs);
    return groupCollection(this.threads, this.host, 'main', timeoutMs, Math.min(this.host.config.clusterTimeoutMs, timeoutMs));
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    for (const unfollow of this.unfollow.splice(0)) unfollow();
    if (this.send) await this.agent.bye(timeoutMs);
    this.closeLink?.();
  }
}

/** The parent's readiness check: ready while at least the configured share of its workers is. */
function addWorkersCheck(host: RoleHost, group: ProcessGroup, isWorker: (key: string) => boolean): void {
  const share = host.config.clusterReadyShare;
  host.addReadinessCheck('workers', async () => {
    const { ready, total } = await group.readiness(Math.max(1, Math.floor(host.config.healthCheckTimeoutMs * 0.9)), isWorker);
    const needed = Math.ceil(share * total);
    return { ready: total > 0 && ready >= needed, detail: `${ready} of ${total} workers ready (${needed} needed)` };
  });
}

