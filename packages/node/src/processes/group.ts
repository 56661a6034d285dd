import { describeError, reportOnce } from '@otelkit/core';
import { isChildMessage, type ChildChannel, type ChildMessage, type ParentMessage } from './protocol.js';
import { SnapshotMerger, type GaugeCombine, type Snapshot } from './snapshot.js';

/** A child; `aggregated` unless it serves its own port (per-worker mode, which asks for a slot). */
type Peer = {
  key: string;
  label: string;
  channel: ChildChannel;
  last: Snapshot | undefined;
  slot: number | undefined;
  aggregated: boolean;
  /** Its exit was seen; its `bye` may still be on the way. */
  departing: boolean;
};
type Pending = { key: string; resolve: (answer: ChildMessage | undefined) => void };

/** How many workers answered a readiness round, and how many there are. */
export type WorkersReadiness = { ready: number; total: number };

/**
 * The parent's side of a group of processes or threads: who is there, their last answers, and the
 * counts of those gone. A scrape asks every child for a snapshot at once and waits at most the
 * deadline; a child that does not answer in time is left out of that scrape but for its last
 * counters and histograms (cumulative, so still true), so sums never go backwards. A child that leaves
 * (exits, is replaced, shuts down) hands its last cumulative counts to the ledger, which every later
 * aggregate includes: counters and histogram counts never decrease across worker deaths.
 */
export class ProcessGroup {
  private readonly peers = new Map<string, Peer>();
  private readonly pending = new Map<number, Pending>();
  private ledger: Snapshot = { scopes: [] };
  private nextRequest = 1;
  private everJoined = false;
  private everAggregated = false;

  constructor(
    private readonly combine: GaugeCombine,
    /** Called when the first child says hello (e.g. to add the workers' readiness check). */
    private readonly onFirstChild: () => void = () => {},
  ) {}

  /** Whether this group aggregates anything beyond the process itself. */
  get active(): boolean {
    return this.everAggregated || this.ledger.scopes.length > 0;
  }

  /** Number of children there now whose metrics this group aggregates. */
  get size(): number {
    let size = 0;
    for (const peer of this.peers.values()) if (peer.aggregated) size++;
    return size;
  }

  /** A message from child `key` (anything not in the protocol is ignored). */
  receive(key: string, message: unknown, channel: ChildChannel): void {
    if (!isChildMessage(message)) return;
    switch (message.t) {
      case 'hello': {
        const slot = message.wantsSlot ? this.freeSlot() : undefined;
        const aggregated = !message.wantsSlot;
        this.peers.set(key, { key, label: String(message.label), channel, last: undefined, slot, aggregated, departing: false });
        if (aggregated) this.everAggregated = true;
        if (slot !== undefined) this.send(channel, { t: 'slot', index: slot });
        if (!this.everJoined) {
          this.everJoined = true;
          this.onFirstChild();
        }
        return;
      }
      case 'bye':
        this.leave(key, message.snapshot);
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

  /**
   * Child `key` exited. Its `bye` (final counts, sent before it ended) can arrive after the exit is
   * seen, so it is waited for up to `graceMs`; then its last answer's counts are kept instead.
   */
  depart(key: string, graceMs: number): void {
    const peer = this.peers.get(key);
    if (peer === undefined || peer.departing) return;
    peer.departing = true;
    // Its port (per-worker mode) is free now: a replacement gets it.
    peer.slot = undefined;
    this.settlePending(key);
    setTimeout(() => this.leave(key), graceMs).unref();
  }

  /** Child `key` is gone: its final (or else last) cumulative counts move to the ledger. */
  leave(key: string, final?: Snapshot): void {
    const peer = this.peers.get(key);
    if (peer === undefined) return;
    this.peers.delete(key);
    const last = final ?? peer.last;
    if (last !== undefined) this.ledger = new SnapshotMerger(this.combine).add(this.ledger, 'monotonic').add(last, 'monotonic').result();
    this.settlePending(key);
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
    this.ledger = new SnapshotMerger(this.combine).add(this.ledger, 'monotonic').add(heir, 'monotonic').result();
  }

  /** What would be lost with this process: the ledger and its own cumulative counts. */
  heir(own: Snapshot): Snapshot {
    return new SnapshotMerger(this.combine).add(this.ledger, 'monotonic').add(own, 'monotonic').result();
  }

  /** Sends `heir` to every child, so whichever takes over after this process keeps the counts. */
  broadcastHeir(heir: Snapshot): void {
    for (const peer of this.peers.values()) if (peer.aggregated) this.send(peer.channel, { t: 'heir', snapshot: heir });
  }

  /**
   * The aggregate: own snapshot (gauges labelled `ownLabel`), every child's answer within `timeoutMs`,
   * the last counts of children that were late, and the ledger.
   */
  async collect(collectOwn: () => Promise<Snapshot>, ownLabel: string, timeoutMs: number): Promise<{ merged: Snapshot; own: Snapshot }> {
    const answers = this.askAll('collect', timeoutMs, (peer) => peer.aggregated && !peer.departing);
    const own = await collectOwn();
    const replies = await answers;
    const merger = new SnapshotMerger(this.combine).add(this.ledger, 'monotonic').add(own, 'all', ownLabel);
    for (const peer of this.peers.values()) {
      if (!peer.aggregated) continue;
      if (peer.departing) {
        if (peer.last !== undefined) merger.add(peer.last, 'monotonic');
        continue;
      }
      const reply = replies.get(peer.key);
      if (reply?.t === 'snapshot') {
        peer.last = reply.snapshot;
        merger.add(reply.snapshot, 'all', peer.label);
        continue;
      }
      const why = reply?.t === 'failed' ? `failed to collect (${reply.error})` : `did not answer within ${timeoutMs} ms`;
      reportOnce(
        `processes.late.${peer.label}`,
        `worker ${peer.label} ${why}; the scrape used its last counters and histograms and left out its gauges`,
      );
      if (peer.last !== undefined) merger.add(peer.last, 'monotonic');
    }
    return { merged: merger.result(), own };
  }

  /** Asks every child whether it is ready; one that does not answer within `timeoutMs` is not. */
  async readiness(timeoutMs: number, include: (key: string) => boolean = () => true): Promise<WorkersReadiness> {
    const replies = await this.askAll('ready', timeoutMs, (peer) => !peer.departing && include(peer.key));
    let ready = 0;
    for (const reply of replies.values()) if (reply?.t === 'ready' && reply.ready) ready++;
    return { ready, total: replies.size };
  }

  private async askAll(kind: 'collect' | 'ready', timeoutMs: number, include: (peer: Peer) => boolean): Promise<Map<string, ChildMessage | undefined>> {
    const peers = [...this.peers.values()].filter(include);
    const answers = await Promise.all(peers.map((peer) => this.ask(peer, kind, timeoutMs)));
    return new Map(peers.map((peer, i) => [peer.key, answers[i]]));
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
      channel.send(message);
      return true;
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
