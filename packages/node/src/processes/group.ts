import { describeError, reportOnce } from '@otelkit/core';
import { isChildMessage, type ChildChannel, type ChildMessage, type ParentMessage } from './protocol.js';
import { isSnapshot, SnapshotMerger, wireSnapshot, type GaugeCombine, type Snapshot } from './snapshot.js';

/** A child; `aggregated` unless it serves its own port (per-worker mode, which asks for a slot). */
type Peer = {
  key: string;
  /** The child process's (or thread's) id for its whole life, across reconnections. */
  uid: string;
  label: string;
  channel: ChildChannel;
  last: Snapshot | undefined;
  /** The request `last` answered (an older answer arriving late never replaces a newer one). */
  lastRequest: number;
  slot: number | undefined;
  aggregated: boolean;
  /** Its exit (or disconnection) was seen; its `bye` may still be on the way. */
  departing: boolean;
  /** Its final counts are in the ledger already. */
  settled: boolean;
};
type Pending = { key: string; resolve: (answer: ChildMessage | undefined) => void };

/** How many workers answered a readiness round, and how many there are. */
export type WorkersReadiness = { ready: number; total: number };

/** Departed children kept apart in the ledger (so one that comes back can take its counts back); older ones are folded. */
const RECENT_DEPARTURES = 32;

/**
 * The parent's side of a group of processes or threads: who is there, their last answers, and the
 * counts of those gone. A scrape asks every child for a snapshot at once and waits at most the
 * deadline; a child that does not answer in time is left out of that scrape but for its last
 * counters and histograms (cumulative, so still true), so sums never go backwards. A child that leaves
 * (exits, is replaced, shuts down) hands its final (else last) cumulative counts to the ledger, which
 * every later aggregate includes: counters and histogram counts never decrease across worker deaths.
 * A child that comes back under the same `uid` (a reconnection) takes its counts back out of the
 * ledger, since it reports them again itself.
 */
export class ProcessGroup {
  private readonly peers = new Map<string, Peer>();
  private readonly pending = new Map<number, Pending>();
  /** Counts of departed children: the recent ones by uid, the older ones folded into `base`. */
  private readonly ledger = { base: { scopes: [] } as Snapshot, recent: new Map<string, Snapshot>() };
  private nextRequest = 1;
  private everAggregated = false;
  private everJoined = false;

  constructor(
    private readonly combine: GaugeCombine,
    private readonly hooks: {
      /** Called when the first child says hello (e.g. to add the workers' readiness check). */
      onFirstChild?: () => void;
      /** Called when the ledger changed (a hub then hands out its heir at once). */
      onLedgerChange?: () => void;
      /** The label of the parent's own gauges, which no child may take. */
      ownLabel?: string;
    } = {},
  ) {}

  /** Whether this group aggregates anything beyond the process itself. */
  get active(): boolean {
    return this.everAggregated || this.ledger.base.scopes.length > 0 || this.ledger.recent.size > 0;
  }

  /** Number of children there now whose metrics this group aggregates. */
  get size(): number {
    let size = 0;
    for (const peer of this.peers.values()) if (peer.aggregated && !peer.departing) size++;
    return size;
  }

  /** A message from child `key` (anything not in the protocol is ignored). */
  receive(key: string, message: unknown, channel: ChildChannel): void {
    if (!isChildMessage(message)) return;
    switch (message.t) {
      case 'hello':
        this.hello(key, message, channel);
        return;
      case 'bye':
        this.settle(key, isSnapshot(message.snapshot) ? message.snapshot : undefined);
        return;
      default: {
        const pending = this.pending.get(message.n);
        if (pending?.key === key) {
          this.pending.delete(message.n);
          pending.resolve(message);
        }
      }
    }
  }

  private hello(key: string, message: Extract<ChildMessage, { t: 'hello' }>, channel: ChildChannel): void {
    const uid = String(message.uid);
    const aggregated = !message.wantsSlot;
    // Back after a disconnection: it reports its whole history again, so the ledger gives it back (and
    // it counts with those counts until its first answer, so the sum does not dip meanwhile).
    let last = this.ledger.recent.get(uid);
    if (this.ledger.recent.delete(uid)) this.hooks.onLedgerChange?.();
    for (const peer of this.peers.values()) {
      if (peer.uid !== uid) continue;
      last ??= peer.settled ? undefined : peer.last;
      this.peers.delete(peer.key);
    }
    const slot = message.wantsSlot ? this.freeSlot() : undefined;
    const label = this.uniqueLabel(String(message.label), key);
    this.peers.set(key, { key, uid, label, channel, last, lastRequest: 0, slot, aggregated, departing: false, settled: false });
    if (aggregated) this.everAggregated = true;
    if (slot !== undefined) this.send(channel, { t: 'slot', index: slot });
    if (!this.everJoined) {
      this.everJoined = true;
      this.hooks.onFirstChild?.();
    }
  }

  /** Gauges of two live children must never share a label (they would be summed): the second gets its key appended. */
  private uniqueLabel(label: string, key: string): string {
    const taken = label === this.hooks.ownLabel || [...this.peers.values()].some((peer) => peer.label === label && !peer.departing);
    if (!taken) return label;
    reportOnce(`processes.label.${label}`, `two workers call themselves "${label}"; one is labelled "${label}~${key}"`);
    return `${label}~${key}`;
  }

  /**
   * Child `key` exited or disconnected. Its `bye` (final counts, sent before it ended) can arrive
   * after that is seen, so it is waited for up to `graceMs`; then its last answer's counts are kept.
   * `exited`: the process is gone, so its port (per-worker mode) is free for a replacement.
   */
  depart(key: string, graceMs: number, exited: boolean): void {
    const peer = this.peers.get(key);
    if (peer === undefined) return;
    if (exited) peer.slot = undefined;
    if (peer.settled) {
      // Its counts are in the ledger already (it said bye): once it has exited, nothing is left to keep.
      if (exited) this.peers.delete(key);
      return;
    }
    if (peer.departing) return;
    peer.departing = true;
    this.settlePending(key);
    setTimeout(() => this.leave(key), graceMs).unref();
  }

  /** Child `key` is gone for good: its counts go to the ledger (unless its bye brought them already). */
  leave(key: string): void {
    const peer = this.peers.get(key);
    if (peer === undefined) return;
    this.settle(key, undefined);
    // A per-worker child that disconnected may still hold its port: its entry (and slot) stays until it exits.
    if (peer.slot === undefined) this.peers.delete(key);
  }

  /** Moves child `key`'s final (else last) counts to the ledger, once; only aggregated children count. */
  private settle(key: string, final: Snapshot | undefined): void {
    const peer = this.peers.get(key);
    if (peer === undefined || peer.settled) return;
    peer.settled = true;
    peer.departing = true;
    this.settlePending(key);
    const counts = final ?? peer.last;
    if (!peer.aggregated || counts === undefined) return;
    this.ledger.recent.set(peer.uid, new SnapshotMerger(this.combine).add(counts, 'monotonic').result());
    if (this.ledger.recent.size > RECENT_DEPARTURES) {
      const [oldest, snapshot] = this.ledger.recent.entries().next().value as [string, Snapshot];
      this.ledger.recent.delete(oldest);
      this.ledger.base = new SnapshotMerger(this.combine).add(this.ledger.base, 'monotonic').add(snapshot, 'monotonic').result();
    }
    this.hooks.onLedgerChange?.();
  }

  private settlePending(key: string): void {
    for (const [n, pending] of this.pending) {
      if (pending.key !== key) continue;
      this.pending.delete(n);
      pending.resolve(undefined);
    }
  }

  /** Adds counts kept for this group by a hub that is gone (see {@link heir}). */
  adopt(heir: Snapshot): void {
    this.ledger.base = new SnapshotMerger(this.combine).add(this.ledger.base, 'monotonic').add(heir, 'monotonic').result();
  }

  /** What would be lost with this process: the ledger and its own cumulative counts. */
  heir(own: Snapshot | undefined): Snapshot {
    const merger = this.ledgerInto(new SnapshotMerger(this.combine));
    if (own !== undefined) merger.add(own, 'monotonic');
    return merger.result();
  }

  /** Sends `heir` to every child, so whichever takes over after this process keeps the counts. */
  broadcastHeir(heir: Snapshot): void {
    heir = wireSnapshot(heir);
    for (const peer of this.peers.values()) if (peer.aggregated && !peer.departing) this.send(peer.channel, { t: 'heir', snapshot: heir });
  }

  private ledgerInto(merger: SnapshotMerger): SnapshotMerger {
    merger.add(this.ledger.base, 'monotonic');
    for (const snapshot of this.ledger.recent.values()) merger.add(snapshot, 'monotonic');
    return merger;
  }

  /**
   * The aggregate: own snapshot (gauges labelled `ownLabel`), every child's answer within `timeoutMs`,
   * the last counts of children that were late or are leaving, and the ledger.
   */
  async collect(collectOwn: () => Promise<Snapshot>, ownLabel: string, timeoutMs: number): Promise<{ merged: Snapshot; own: Snapshot }> {
    const asked = this.askAll('collect', timeoutMs, (peer) => peer.aggregated && !peer.departing);
    const own = await collectOwn();
    const { replies, request } = await asked;
    const merger = this.ledgerInto(new SnapshotMerger(this.combine)).add(own, 'all', ownLabel);
    for (const peer of this.peers.values()) {
      if (!peer.aggregated || peer.settled) continue;
      const reply = replies.get(peer.key);
      if (reply?.t === 'snapshot' && isSnapshot(reply.snapshot)) {
        if (request >= peer.lastRequest) {
          peer.last = reply.snapshot;
          peer.lastRequest = request;
        }
        merger.add(reply.snapshot, 'all', peer.label);
        continue;
      }
      if (!peer.departing && replies.has(peer.key)) {
        const why = reply?.t === 'failed' ? `failed to collect (${reply.error})` : `did not answer within ${timeoutMs} ms`;
        reportOnce(`processes.late.${peer.label}`, `worker ${peer.label} ${why}; the scrape used its last counters and histograms and left out its gauges`);
      }
      if (peer.last !== undefined) merger.add(peer.last, 'monotonic');
    }
    return { merged: merger.result(), own };
  }

  /** Asks every child whether it is ready; one that does not answer within `timeoutMs` is not. */
  async readiness(timeoutMs: number, include: (key: string) => boolean = () => true): Promise<WorkersReadiness> {
    const { replies } = await this.askAll('ready', timeoutMs, (peer) => !peer.departing && include(peer.key));
    let ready = 0;
    for (const reply of replies.values()) if (reply?.t === 'ready' && reply.ready === true) ready++;
    return { ready, total: replies.size };
  }

  private async askAll(
    kind: 'collect' | 'ready',
    timeoutMs: number,
    include: (peer: Peer) => boolean,
  ): Promise<{ replies: Map<string, ChildMessage | undefined>; request: number }> {
    const request = this.nextRequest;
    const peers = [...this.peers.values()].filter(include);
    const answers = await Promise.all(peers.map((peer) => this.ask(peer, kind, timeoutMs)));
    return { replies: new Map(peers.map((peer, i) => [peer.key, answers[i]])), request };
  }

  private ask(peer: Peer, kind: 'collect' | 'ready', timeoutMs: number): Promise<ChildMessage | undefined> {
    const n = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(n);
        resolve(undefined);
      }, timeoutMs);
      timer.unref();
      this.pending.set(n, {
        key: peer.key,
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      if (!this.send(peer.channel, { t: kind, n })) this.pending.get(n)?.resolve(undefined);
    });
  }

  private send(channel: ChildChannel, message: ParentMessage): boolean {
    try {
      return channel.send(message) !== false;
    } catch (error) {
      reportOnce('processes.send', `a message to a worker could not be sent: ${describeError(error)}`);
      return false;
    }
  }

  /** The lowest index from 1 no child holds (per-worker mode: a replaced worker gets its port back). */
  private freeSlot(): number {
    const taken = new Set<number>();
    for (const peer of this.peers.values()) if (peer.slot !== undefined) taken.add(peer.slot);
    let slot = 1;
    while (taken.has(slot)) slot++;
    return slot;
  }
}
