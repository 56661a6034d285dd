import type { Snapshot } from './snapshot.js';

/**
 * What a parent (cluster primary, main thread, elected hub) sends its children (workers, threads):
 * - `collect`: answer with a snapshot of your metrics (and your own children's);
 * - `ready`: answer with your readiness;
 * - `slot`: your index among the workers (per-worker mode: you listen on port + index);
 * - `heir`: what to keep if the hub dies (its own counts and those of the workers gone before).
 */
export type ParentMessage =
  | { t: 'collect'; n: number }
  | { t: 'ready'; n: number }
  | { t: 'slot'; index: number }
  | { t: 'heir'; snapshot: Snapshot };

/**
 * What a child sends its parent: `hello` once it runs otelkit (with its id for life, across
 * reconnections, and the label its gauges get), the
 * answers to `collect` and `ready`, and `bye` with its final counts when it shuts down.
 */
export type ChildMessage =
  | { t: 'hello'; uid: string; label: string; wantsSlot: boolean }
  | { t: 'snapshot'; n: number; snapshot: Snapshot }
  | { t: 'ready'; n: number; ready: boolean }
  | { t: 'failed'; n: number; error: string }
  | { t: 'bye'; snapshot: Snapshot | undefined };

const PARENT_TYPES = new Set(['collect', 'ready', 'slot', 'heir']);
const CHILD_TYPES = new Set(['hello', 'snapshot', 'ready', 'failed', 'bye']);

/** Whether a message from a child has the shape the protocol expects (anything else is ignored). */
export function isChildMessage(message: unknown): message is ChildMessage {
  return typeof message === 'object' && message !== null && CHILD_TYPES.has((message as { t?: unknown }).t as string);
}

/** Whether a message from the parent has the shape the protocol expects. */
export function isParentMessage(message: unknown): message is ParentMessage {
  return typeof message === 'object' && message !== null && PARENT_TYPES.has((message as { t?: unknown }).t as string);
}

/** The way from a parent to one child; `send` returns false (or throws) when the child cannot be reached. */
export type ChildChannel = { send(message: ParentMessage): boolean | void };
