import { describeError, reportOnce } from '@otelkit/core';
import { isParentMessage, type ChildMessage } from './protocol.js';
import { isSnapshot, type Snapshot } from './snapshot.js';

/** What a child does when its parent asks. */
export type AgentHandlers = {
  /** This process's (or thread's) metrics, its own children's included. */
  snapshot(): Promise<Snapshot>;
  /** This process's readiness. */
  ready(): Promise<boolean>;
  /** Per-worker mode: the index the parent gave this worker. */
  slot?(index: number): void;
};

/**
 * The child's side of a group: says hello, answers the parent's `collect` and `ready`, keeps the
 * latest `heir` (for a hub election), and sends its final counts with `bye` at shutdown.
 */
export class ChildAgent {
  /** The counts the last hub asked its children to keep (see `ProcessGroup.heir`). */
  heir: Snapshot | undefined;

  constructor(
    private readonly send: (message: ChildMessage) => void,
    private readonly handlers: AgentHandlers,
  ) {}

  hello(uid: string, label: string, wantsSlot: boolean): void {
    this.post({ t: 'hello', uid, label, wantsSlot });
  }

  receive(message: unknown): void {
    if (!isParentMessage(message)) return;
    switch (message.t) {
      case 'collect': {
        const n = message.n;
        this.handlers.snapshot().then(
          (snapshot) => this.post({ t: 'snapshot', n, snapshot }),
          (error: unknown) => this.post({ t: 'failed', n, error: describeError(error) }),
        );
        return;
      }
      case 'ready': {
        const n = message.n;
        this.handlers.ready().then(
          (ready) => this.post({ t: 'ready', n, ready }),
          () => this.post({ t: 'ready', n, ready: false }),
        );
        return;
      }
      case 'slot':
        this.handlers.slot?.(message.index);
        return;
      case 'heir':
        if (isSnapshot(message.snapshot)) this.heir = message.snapshot;
    }
  }

  /** Says goodbye (at shutdown) with the final counts (when `withCounts`), waiting at most `timeoutMs` for them. */
  async bye(timeoutMs: number, withCounts: boolean): Promise<void> {
    if (!withCounts) return this.post({ t: 'bye', snapshot: undefined });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      timer.unref();
    });
    const snapshot = await Promise.race([this.handlers.snapshot().catch(() => undefined), late]);
    clearTimeout(timer);
    this.post({ t: 'bye', snapshot });
  }

  private post(message: ChildMessage): void {
    try {
      this.send(message);
    } catch (error) {
      reportOnce('processes.reply', `an answer to the metrics aggregator could not be sent: ${describeError(error)}`);
    }
  }
}
