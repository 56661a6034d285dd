import type { BridgeHandle } from '@otelkit/core';

/**
 * What a pool can say about itself at one moment. A field the library cannot give is left
 * undefined and its metric is not reported.
 */
export interface PoolCounts {
  /** Connections (resources) lent out and in use. */
  readonly used?: number;
  /** Open connections waiting in the pool to be borrowed. */
  readonly idle?: number;
  /** Requests waiting for a connection. */
  readonly pending?: number;
  /** The most connections the pool opens at once. */
  readonly max?: number;
  /** The most idle connections the pool keeps. */
  readonly idleMax?: number;
  /** The fewest idle connections the pool keeps. */
  readonly idleMin?: number;
}

/** A reading of a bound pool, as readiness checks and tests see it. */
export interface PoolSnapshot extends PoolCounts {
  /** `used / max` (0 to 1) when both are known; for an undici Agent, the highest over its origins. */
  readonly utilization?: number;
  /** How long the longest-waiting pending acquire has waited, in seconds, when the bridge sees acquires. */
  readonly oldestWaitSeconds?: number;
  /** Acquire timeouts seen since binding, when the library has acquire timeouts. */
  readonly timeouts?: number;
  /** Why the pool could not be read now, when reading it threw (the other fields are then absent). */
  readonly readError?: string;
}

/** The handle every pool bridge returns: a {@link BridgeHandle} that can also read the pool. */
export interface PoolHandle extends BridgeHandle {
  /** The pool name used as `db.client.connection.pool.name` (or the origin, for undici); `''` when not bound. */
  readonly poolName: string;
  /** Reads the pool now; an empty object when not bound, only `readError` when reading it threw. */
  snapshot(): PoolSnapshot;
}

/** Options every pool bridge takes. */
export interface PoolBridgeOptions {
  /**
   * `db.client.connection.pool.name`. Defaults to `server.address:server.port/db.namespace` when the
   * library knows them, else to the library name (`generic-pool`, `tarn`, then `tarn#2`, … for more pools).
   */
  readonly poolName?: string;
}
