import { contain, reportOnce } from '@otelkit/core';
import { DbPoolMetrics } from './db-pool-metrics.js';
import { bindOnce, choosePoolName, createPoolHandle, isEmitter, isObject, noopPoolHandle, poolNameReleaser, rejectArgument } from './pool-handle.js';
import type { PoolBridgeOptions, PoolCounts, PoolHandle } from './types.js';

/**
 * Options of {@link instrumentPool}. The pool reports its counts either as numeric properties
 * (`used`, `idle`, `pending`, `max`, `idleMax`, `idleMin`, getters included) or through `read`.
 */
export interface CustomPoolBridgeOptions extends PoolBridgeOptions {
  /** Reads the counts at collection time, instead of the pool's own properties. */
  readonly read?: () => PoolCounts;
  /**
   * Listen on the pool (an EventEmitter) for timing events: `wait`, `use`, `create` with a duration
   * in seconds, and `timeout` with no argument. Listeners are removed by `unbind()`.
   * @default false
   */
  readonly events?: boolean;
}

/** The handle of {@link instrumentPool}: a pool handle that also takes timings from the caller. */
export interface CustomPoolHandle extends PoolHandle {
  /** Records a `db.client.connection.wait_time`, in seconds. */
  recordWaitTime(seconds: number): void;
  /** Records a `db.client.connection.use_time`, in seconds. */
  recordUseTime(seconds: number): void;
  /** Records a `db.client.connection.create_time`, in seconds. */
  recordCreateTime(seconds: number): void;
  /** Counts one `db.client.connection.timeouts`. */
  recordTimeout(): void;
}

const COUNT_KEYS = ['used', 'idle', 'pending', 'max', 'idleMax', 'idleMin'] as const;

function propertyCounts(pool: Record<PropertyKey, unknown>): PoolCounts {
  const counts: Record<string, number> = {};
  for (const key of COUNT_KEYS) {
    const value = pool[key];
    if (typeof value === 'number') counts[key] = value;
  }
  return counts;
}

function isDuration(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && Number.isFinite(value);
}

const noopRecorders = { recordWaitTime() {}, recordUseTime() {}, recordCreateTime() {}, recordTimeout() {} };

/**
 * Bridges any pool that can report `{ used, idle, pending, max }` (such as a hand-written block or
 * worker pool) to the `db.client.connection.*` metrics. Counts are read at collection time; a count
 * the pool does not give is not reported. Timings come from the handle's `record*` methods or, with
 * `events: true`, from `wait`/`use`/`create`/`timeout` events of the pool.
 *
 * @example
 * const blocks = new BlockPool({ max: 8 }); // has used, idle, pending, max
 * const handle = instrumentPool(blocks, { poolName: 'blocks' });
 * handle.recordWaitTime(0.004);
 * handle.unbind();
 */
export function instrumentPool(pool: object, options: CustomPoolBridgeOptions = {}): CustomPoolHandle {
  if (!isObject(pool)) return Object.assign(rejectArgument('custom', 'expected a pool object'), noopRecorders);
  const read = options.read ?? (() => propertyCounts(pool));
  let first: PoolCounts;
  try {
    first = read();
  } catch {
    first = {};
  }
  if (!COUNT_KEYS.some((key) => typeof first[key] === 'number')) {
    return Object.assign(
      rejectArgument('custom', 'the pool reports none of used, idle, pending, max (give numeric properties or `read`)'),
      noopRecorders,
    );
  }
  if (options.events && !isEmitter(pool)) {
    reportOnce('pool.custom.events', 'custom pool bridge: `events: true` needs an EventEmitter pool; timing events are not read');
  }
  let created: CustomPoolHandle | undefined;
  const handle = bindOnce(pool, () => {
    created = bindCustom(pool, options);
    return created;
  });
  // Binding twice returns the first handle, which already carries the recorders.
  if (created === undefined) return isCustomHandle(handle) ? handle : Object.assign(noopPoolHandle(), noopRecorders);
  return created;
}

function isCustomHandle(handle: PoolHandle): handle is CustomPoolHandle {
  return typeof (handle as Partial<CustomPoolHandle>).recordWaitTime === 'function';
}

/** The app's `read`, wrapped outside the bind function so the wrapper does not hold the pool. */
function callingRead(read: () => PoolCounts): () => PoolCounts {
  return () => read();
}

function bindCustom(pool: object, options: CustomPoolBridgeOptions): CustomPoolHandle {
  const poolName = choosePoolName(options.poolName, () => undefined, 'pool');
  // The default read takes the pool as an argument, so the pool is held weakly (a `read` of the app's
  // own holds whatever it captures).
  const metrics = new DbPoolMetrics(
    { poolName, library: 'custom', seesTimeouts: true, seesAcquires: false },
    pool,
    options.read ? callingRead(options.read) : propertyCounts,
    poolNameReleaser(poolName),
  );
  let bound = true;
  const recorders = {
    recordWaitTime: contain('pool.custom.recordWaitTime', (seconds: number) => {
      if (bound && isDuration(seconds)) metrics.recordWaitTime(seconds);
    }),
    recordUseTime: contain('pool.custom.recordUseTime', (seconds: number) => {
      if (bound && isDuration(seconds)) metrics.recordUseTime(seconds);
    }),
    recordCreateTime: contain('pool.custom.recordCreateTime', (seconds: number) => {
      if (bound && isDuration(seconds)) metrics.recordCreateTime(seconds);
    }),
    recordTimeout: contain('pool.custom.recordTimeout', () => {
      if (bound) metrics.countTimeout();
    }),
  };
  const listeners: Array<[string, (value?: unknown) => void]> = [];
  if (options.events && isEmitter(pool)) {
    listeners.push(
      ['wait', (seconds) => recorders.recordWaitTime(seconds as number)],
      ['use', (seconds) => recorders.recordUseTime(seconds as number)],
      ['create', (seconds) => recorders.recordCreateTime(seconds as number)],
      ['timeout', () => recorders.recordTimeout()],
    );
    for (const [event, listener] of listeners) pool.on(event, listener);
  }
  const handle = createPoolHandle(
    poolName,
    () => {
      bound = false;
      if (isEmitter(pool)) for (const [event, listener] of listeners) pool.removeListener(event, listener);
      metrics.close();
    },
    () => metrics.snapshot(),
  );
  return Object.assign(handle, recorders);
}
