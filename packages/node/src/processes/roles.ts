import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { METRIC_CATALOG } from '@otelkit/core';
import type { OtelkitConfig } from '../config.js';
import type { Collection } from '../prometheus/exposition.js';
import { ChildAgent } from './agent.js';
import { ProcessGroup } from './group.js';
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
  pm2AppName,
  pm2Instance,
  PRIMARY_ENV,
  threadParentLink,
} from './links.js';
import type { ChildMessage } from './protocol.js';
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
  /** Removes it (when the SDK stops). */
  removeReadinessCheck(name: string): void;
  /** Stops listening on the metrics/health port (an elected hub hands it over when it stops). */
  unlisten(): Promise<void>;
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

/** How long a starting instance with no heir waits before standing in a hub election (see ElectedRole). */
const NEWCOMER_WAIT_MS = 500;
/** The name of the parent's readiness check over its workers. */
const WORKERS_CHECK = 'workers';

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
 * With Prometheus off, no aggregation: workers serve nothing (no port clash).
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
async function groupCollection(
  group: ProcessGroup,
  collectOwn: (timeoutMs: number) => Promise<Collection>,
  ownLabel: string,
  timeoutMs: number,
  deadlineMs: number,
): Promise<Collection & { own: Snapshot }> {
  let ownCollection: Collection | undefined;
  const { merged, own } = await group.collect(
    async () => {
      ownCollection = await collectOwn(timeoutMs);
      return toSnapshot(ownCollection.resourceMetrics);
    },
    ownLabel,
    deadlineMs,
  );
  const resource = ownCollection!.resourceMetrics.resource;
  return { resourceMetrics: { resource, scopeMetrics: toScopeMetrics(merged) }, errors: ownCollection!.errors, own };
}

/** The group of a process's worker threads (every process's main thread has one). */
function threadGroup(host: RoleHost, unfollow: Array<() => void>): ProcessGroup {
  const threads = new ProcessGroup(combine);
  unfollow.push(followThreads(threads, host.config.clusterTimeoutMs));
  return threads;
}

/** This process's own collection, with its threads' when it has any. */
function ownAndThreads(host: RoleHost, threads: ProcessGroup | undefined, timeoutMs: number): Promise<Collection> {
  if (!threads?.active) return host.collectOwn(timeoutMs);
  return groupCollection(threads, (t) => host.collectOwn(t), 'main', timeoutMs, Math.min(host.config.clusterTimeoutMs, timeoutMs));
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
    this.group = new ProcessGroup(combine);
    this.unfollow.push(followClusterWorkers(this.group, host.config.clusterTimeoutMs));
    if (prometheus) this.unfollow.push(followThreads(this.group, host.config.clusterTimeoutMs));
    // Readiness follows the workers from the first fork: one forked (since otelkit started) but not yet
    // answering is not ready. Only where workers report at all (Prometheus on, or per-worker mode).
    if (prometheus || host.config.clusterMode === 'per-worker') {
      const forked = new Set<number>();
      const onFork = (worker: { id: number }): void => {
        if (forked.size === 0) addWorkersCheck(host, this.group, (key) => key.startsWith('w'), () => ({ others: forked.size, self: 0 }));
        forked.add(worker.id);
      };
      const onExit = (worker: { id: number }): void => void forked.delete(worker.id);
      cluster.on('fork', onFork);
      cluster.on('exit', onExit);
      this.unfollow.push(() => {
        cluster.removeListener('fork', onFork);
        cluster.removeListener('exit', onExit);
        host.removeReadinessCheck(WORKERS_CHECK);
      });
    }
    this.ready = host.listen(host.config.prometheusPort);
  }

  async collect(timeoutMs: number): Promise<Collection> {
    if (!this.group.active) return this.host.collectOwn(timeoutMs);
    const label = Object.keys(cluster.workers ?? {}).length > 0 ? 'primary' : 'main';
    return groupCollection(this.group, (t) => this.host.collectOwn(t), label, timeoutMs, Math.min(this.host.config.clusterTimeoutMs, timeoutMs));
  }

  async stop(): Promise<void> {
    for (const unfollow of this.unfollow.splice(0)) unfollow();
    if (process.env[PRIMARY_ENV] === String(process.pid)) delete process.env[PRIMARY_ENV];
  }
}

/** A thread, or a cluster worker under an otelkit primary (or per-worker mode): answers its parent. */
class ChildRole implements ProcessRole {
  readonly ready: Promise<AddressInfo | undefined>;
  /** This child's id for as long as this SDK runs (a restarted SDK is a new child: its SDK counts start again). */
  private readonly uid = randomUUID();
  private readonly agent: ChildAgent;
  private readonly link: { send: (m: ChildMessage) => void; close: () => void } | undefined;
  private readonly threads: ProcessGroup | undefined;
  private readonly unfollow: Array<() => void> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly host: RoleHost,
    private readonly kind: 'thread' | 'cluster' | 'per-worker',
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
      this.agent.hello(this.uid, label, false);
      // A thread whose work is done hands over its final counts before it ends.
      const onBeforeExit = (): void => void this.stop(host.config.clusterTimeoutMs);
      process.once('beforeExit', onBeforeExit);
      this.unfollow.push(() => process.removeListener('beforeExit', onBeforeExit));
      this.ready = Promise.resolve(undefined);
      return;
    }
    // A worker process: its own threads report to it.
    this.threads = threadGroup(host, this.unfollow);
    if (kind === 'cluster') {
      this.link = clusterParentLink(() => this.agent);
      this.agent.hello(this.uid, label, false);
      this.ready = Promise.resolve(undefined);
      return;
    }
    // Per-worker: the otelkit primary hands out indexes (a replaced worker gets its predecessor's);
    // without one, PM2's instance number, else the cluster worker id.
    if (hasOtelkitPrimary()) {
      this.link = clusterParentLink(() => this.agent);
      this.agent.hello(this.uid, label, true);
    } else {
      const index = Number(pm2Instance() ?? cluster.worker?.id ?? 0);
      resolveSlot(Number.isInteger(index) ? index : 0);
    }
    const port = host.config.prometheusPort;
    this.ready = slot.then((index) => host.listen(port === 0 ? 0 : port + index));
  }

  collect(timeoutMs: number): Promise<Collection> {
    return ownAndThreads(this.host, this.threads, timeoutMs);
  }

  /** Once: a second call (the thread's beforeExit, then shutdown) waits for the first. */
  stop(timeoutMs: number): Promise<void> {
    this.stopping ??= this.finish(timeoutMs);
    return this.stopping;
  }

  private async finish(timeoutMs: number): Promise<void> {
    // The final counts first (its threads still answer), then the links close.
    if (this.link) {
      await this.agent.bye(timeoutMs, this.kind !== 'per-worker');
      this.link.close();
    }
    for (const unfollow of this.unfollow.splice(0)) unfollow();
  }
}

/**
 * An instance with no otelkit parent (PM2's cluster mode, or a primary that does not run otelkit):
 * the instances elect a hub on a local socket. The hub serves the port and the aggregate; the others
 * answer it. The hub gives every instance its heir (its own counts and those of instances gone
 * before) after each scrape, whenever an instance leaves, and when it stops; when the hub dies, an
 * instance holding an heir is elected first (one without waits), starts from it, and the sums still
 * never go backwards (bar what the hub counted since its last scrape).
 */
class ElectedRole implements ProcessRole {
  readonly ready: Promise<AddressInfo | undefined>;
  /** This instance's id for as long as this SDK runs, kept across reconnections to the hub. */
  private readonly uid = randomUUID();
  private stopping: Promise<void> | undefined;
  private readonly path: string;
  private readonly label: string;
  private readonly agent: ChildAgent;
  private readonly threads: ProcessGroup;
  private group: ProcessGroup | undefined;
  private readonly members = new Set<Socket>();
  private lastOwn: Snapshot | undefined;
  private send: ((message: ChildMessage) => void) | undefined;
  /** The link to the hub, while this instance is a member. */
  private socket: Socket | undefined;
  private closeLink: (() => void) | undefined;
  private stopped = false;
  private failures = 0;
  private connections = 0;
  private readonly unfollow: Array<() => void> = [];

  constructor(private readonly host: RoleHost) {
    const app = host.config.serviceName ?? pm2AppName() ?? '';
    this.path = hubSocketPath(app, host.config.prometheusHost, host.config.prometheusPort);
    this.label = ownWorkerLabel() ?? String(process.pid);
    this.agent = new ChildAgent((m) => this.send?.(m), {
      snapshot: () => this.collectOwn(host.config.clusterTimeoutMs).then((collection) => toSnapshot(collection.resourceMetrics)),
      ready: () => host.ready(),
    });
    this.threads = threadGroup(host, this.unfollow);
    this.ready = this.elect();
  }

  private async elect(): Promise<AddressInfo | undefined> {
    if (this.stopped) return undefined;
    // An instance holding the counts of a hub gone (an heir) stands first; one without (just started,
    // perhaps the dead hub's replacement) joins a hub if there is one, else waits so a survivor can.
    if (this.agent.heir === undefined) {
      const socket = await connectHub(this.path);
      if (socket !== undefined) return this.joinHub(socket);
      await new Promise((resolve) => setTimeout(resolve, NEWCOMER_WAIT_MS).unref());
      if (this.stopped) return undefined;
    }
    const server = await listenHub(this.path, (socket) => this.accept(socket));
    if (server !== undefined) {
      if (this.stopped) {
        server.close();
        return undefined;
      }
      return this.becomeHub(server);
    }
    const socket = await connectHub(this.path);
    if (socket === undefined) return this.retry();
    return this.joinHub(socket);
  }

  private joinHub(socket: Socket): undefined {
    if (this.stopped) {
      socket.destroy();
      return undefined;
    }
    this.failures = 0;
    this.socket = socket;
    this.send = jsonLines(socket, (message) => this.agent.receive(message));
    socket.once('close', () => {
      this.send = undefined;
      this.socket = undefined;
      void this.retry();
    });
    this.agent.hello(this.uid, this.label, false);
    return undefined;
  }

  /** Elects again a moment later: jittered, backing off while neither listening nor joining works. */
  private retry(): Promise<AddressInfo | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const delay = Math.min(5000, 50 * 2 ** Math.min(this.failures++, 7)) * Math.random();
    return new Promise((resolve) => setTimeout(() => resolve(this.elect()), delay).unref());
  }

  private becomeHub(server: Server): Promise<AddressInfo | undefined> {
    this.closeLink = () => server.close();
    const group = (this.group = new ProcessGroup(combine, {
      onFirstChild: () => addWorkersCheck(this.host, group, (key) => key.startsWith('s'), () => ({ others: 0, self: 1 })),
      // Whenever the ledger changes (an instance left), every instance gets the new heir at once.
      onLedgerChange: () => group.broadcastHeir(group.heir(this.lastOwn)),
      ownLabel: this.label,
    }));
    if (this.agent.heir) group.adopt(this.agent.heir);
    return this.listenPort();
  }

  /**
   * Listens on the metrics port, trying again while it is taken: a hub that stops gracefully lets go
   * of the hub socket first and of the port a moment later (see stop()).
   */
  private async listenPort(): Promise<AddressInfo | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const address = await this.host.listen(this.host.config.prometheusPort);
      if (address !== undefined || attempt >= 40) return address;
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
    return undefined;
  }

  private accept(socket: Socket): void {
    const key = `s${++this.connections}`;
    const group = this.group;
    if (!group || this.stopped) return void socket.destroy();
    this.members.add(socket);
    const send = jsonLines(socket, (message) => group.receive(key, message, { send }));
    socket.once('close', () => {
      this.members.delete(socket);
      // A member that reconnects (same uid) takes its counts back; one that is gone leaves them.
      group.depart(key, this.host.config.clusterTimeoutMs, true);
    });
  }

  async collect(timeoutMs: number): Promise<Collection> {
    const group = this.group;
    if (!group) return this.collectOwn(timeoutMs);
    const collection = await groupCollection(group, (t) => this.collectOwn(t), this.label, timeoutMs, Math.min(this.host.config.clusterTimeoutMs, timeoutMs));
    this.lastOwn = collection.own;
    group.broadcastHeir(group.heir(collection.own));
    return collection;
  }

  private collectOwn(timeoutMs: number): Promise<Collection> {
    return ownAndThreads(this.host, this.threads, timeoutMs);
  }

  /** Once: a second call waits for the first. */
  stop(timeoutMs: number): Promise<void> {
    this.stopping ??= this.finish(timeoutMs);
    return this.stopping;
  }

  private async finish(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const group = this.group;
    if (group) {
      // The hub's last word: its final counts go to every member, one of which takes over (and the
      // port: let go of it now rather than at the end of this process's flush).
      const final = await this.collectOwn(timeoutMs).then((collection) => toSnapshot(collection.resourceMetrics)).catch(() => this.lastOwn);
      group.broadcastHeir(group.heir(final));
      this.host.removeReadinessCheck(WORKERS_CHECK);
      await this.host.unlisten();
      for (const member of this.members) member.end();
      this.closeLink?.();
    } else if (this.socket) {
      await this.agent.bye(timeoutMs, true);
      // end(), not destroy(): the bye (possibly large) is written out before the socket closes.
      await endSocket(this.socket, timeoutMs);
    }
    for (const unfollow of this.unfollow.splice(0)) unfollow();
  }
}

/**
 * The parent's readiness check: ready while at least the configured share of its workers is. `count`
 * says how many workers there are beyond those that answer (forked but silent ones count as not ready)
 * and whether the parent counts itself (an elected hub is one of the instances).
 */
function addWorkersCheck(host: RoleHost, group: ProcessGroup, isWorker: (key: string) => boolean, count: () => { others: number; self: number }): void {
  const share = host.config.clusterReadyShare;
  host.addReadinessCheck(WORKERS_CHECK, async () => {
    const answered = await group.readiness(Math.max(1, Math.floor(host.config.healthCheckTimeoutMs * 0.9)), isWorker);
    const { others, self } = count();
    const total = Math.max(answered.total, others) + self;
    const ready = answered.ready + self;
    const needed = Math.ceil(share * total);
    return { ready: total > 0 && ready >= needed, detail: `${ready} of ${total} workers ready (${needed} needed)` };
  });
}

/** Ends a socket (its pending writes go out), destroying it if it is not closed within `timeoutMs`. */
function endSocket(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, timeoutMs);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
