import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import {
  ATTR,
  DB_CLIENT_CONNECTION_COUNT,
  DB_CLIENT_CONNECTION_CREATE_TIME,
  DB_CLIENT_CONNECTION_IDLE_MAX,
  DB_CLIENT_CONNECTION_IDLE_MIN,
  DB_CLIENT_CONNECTION_MAX,
  DB_CLIENT_CONNECTION_PENDING_REQUESTS,
  DB_CLIENT_CONNECTION_TIMEOUTS,
  DB_CLIENT_CONNECTION_USE_TIME,
  DB_CLIENT_CONNECTION_UTILIZATION,
  DB_CLIENT_CONNECTION_WAIT_TIME,
  bindHistogram,
  createInstrument,
  describeError,
  type BoundHistogram,
  holdWeakly,
  perMeter,
  type WeakTarget,
  registerBatch,
  type BatchRegistration,
  reportOnce,
} from '@otelkit/core';
import { undoIfBindFails } from './pool-handle.js';
import type { PoolCounts, PoolSnapshot } from './types.js';

/** Instrumentation scope of every pool bridge. */
export const POOL_SCOPE = '@otelkit/pool';

interface DbPoolInstruments {
  readonly count: Observable;
  readonly max: Observable;
  readonly idleMax: Observable;
  readonly idleMin: Observable;
  readonly pending: Observable;
  readonly timeouts: Observable;
  readonly utilization: Observable;
}

/** The instruments on a meter, made once per meter and shared by every bound pool. */
const dbPoolInstruments = perMeter(
  (meter: Meter): DbPoolInstruments => ({
    count: createInstrument(meter, DB_CLIENT_CONNECTION_COUNT),
    max: createInstrument(meter, DB_CLIENT_CONNECTION_MAX),
    idleMax: createInstrument(meter, DB_CLIENT_CONNECTION_IDLE_MAX),
    idleMin: createInstrument(meter, DB_CLIENT_CONNECTION_IDLE_MIN),
    pending: createInstrument(meter, DB_CLIENT_CONNECTION_PENDING_REQUESTS),
    timeouts: createInstrument(meter, DB_CLIENT_CONNECTION_TIMEOUTS),
    utilization: createInstrument(meter, DB_CLIENT_CONNECTION_UTILIZATION),
  }),
);

/** How an acquire we watched ended. */
export type AcquireOutcome = 'acquired' | 'timeout' | 'failed';

/** What a library bridge tells the shared database-pool metrics. */
export interface DbPoolMetricsOptions {
  readonly poolName: string;
  /** Library name, for diagnostics. */
  readonly library: string;
  /** Whether the library has acquire timeouts the bridge can see (else `timeouts` is not reported). */
  readonly seesTimeouts: boolean;
  /** Whether the bridge sees acquire requests (else no oldest-wait reading). */
  readonly seesAcquires: boolean;
}

/**
 * The metrics of one bound database-style pool: one batch observable callback reading the library's
 * counters at collection time, plain-number timeout counting, and three duration histograms bound
 * once to the pool's attributes (otelkit's bound instruments: a record is a bucket update).
 */
/** Made outside the class, so the closure holds the metrics and the releaser, never the pool. */
function closingThen(metrics: DbPoolMetrics, then: () => void): () => void {
  return () => {
    metrics.close();
    then();
  };
}

export class DbPoolMetrics {
  readonly attributes: Attributes;
  private readonly idleAttributes: Attributes;
  private readonly usedAttributes: Attributes;
  private readonly registration: BatchRegistration;
  private readonly waiters = new Map<number, number>();
  private nextWaiter = 0;
  private timeouts = 0;
  private readonly waitTime: BoundHistogram;
  private readonly useTime: BoundHistogram;
  private readonly createTime: BoundHistogram;

  private readonly pool: WeakTarget<object>;
  private readonly readPool: (pool: object) => PoolCounts;
  private closed = false;

  /**
   * @param pool the pool, held weakly: one the app drops without ending it is still collected, and
   *   its callback and name go with it
   * @param read reads the library's counters from the pool at collection time; must not capture it
   * @param onDropped runs if the pool is collected while bound (frees its name); must not hold the pool
   */
  constructor(
    private readonly options: DbPoolMetricsOptions,
    pool: object,
    read: (pool: never) => PoolCounts,
    onDropped: () => void = () => {},
  ) {
    this.readPool = read as (pool: object) => PoolCounts;
    // Collected while bound: the callback goes and the name is freed.
    this.pool = holdWeakly(pool, closingThen(this, onDropped));
    this.attributes = Object.freeze({ [ATTR.DB_CLIENT_CONNECTION_POOL_NAME]: options.poolName });
    this.idleAttributes = Object.freeze({ ...this.attributes, [ATTR.DB_CLIENT_CONNECTION_STATE]: 'idle' });
    this.usedAttributes = Object.freeze({ ...this.attributes, [ATTR.DB_CLIENT_CONNECTION_STATE]: 'used' });
    const scope = { scope: POOL_SCOPE };
    this.waitTime = bindHistogram(DB_CLIENT_CONNECTION_WAIT_TIME, this.attributes, scope);
    this.useTime = bindHistogram(DB_CLIENT_CONNECTION_USE_TIME, this.attributes, scope);
    this.createTime = bindHistogram(DB_CLIENT_CONNECTION_CREATE_TIME, this.attributes, scope);
    const seesTimeouts = options.seesTimeouts === true;
    // On otelkit's meter of the provider in force, following it if it is set or replaced later.
    this.registration = registerBatch(
      POOL_SCOPE,
      (meter) => {
        const i = dbPoolInstruments(meter);
        const observables: Observable[] = [i.count, i.max, i.idleMax, i.idleMin, i.pending, i.utilization];
        if (seesTimeouts) observables.push(i.timeouts);
        return { instruments: i, observables };
      },
      (result, instruments) => this.observe(result, instruments),
    );
    undoIfBindFails(() => this.close());
  }

  /** Reads the pool now (for readiness checks and the handle). */
  snapshot(): PoolSnapshot {
    const counts = this.read();
    const utilization = utilizationOf(counts.used, counts.max);
    let oldestWaitSeconds: number | undefined;
    if (this.options.seesAcquires) {
      const oldest = this.waiters.values().next();
      oldestWaitSeconds = oldest.done ? 0 : (performance.now() - oldest.value) / 1000;
    }
    return {
      ...counts,
      ...(utilization === undefined ? {} : { utilization }),
      ...(oldestWaitSeconds === undefined ? {} : { oldestWaitSeconds }),
      ...(this.options.seesTimeouts ? { timeouts: this.timeouts } : {}),
    };
  }

  /** Marks the start of an acquire request; returns its token for {@link acquireEnded}. */
  acquireStarted(): number {
    const token = ++this.nextWaiter;
    this.waiters.set(token, performance.now());
    return token;
  }

  /** Marks the end of an acquire request: records wait_time on success, counts a timeout. */
  acquireEnded(token: number, outcome: AcquireOutcome): void {
    const started = this.waiters.get(token);
    if (started === undefined) return;
    this.waiters.delete(token);
    if (outcome === 'timeout') this.timeouts++;
    else if (outcome === 'acquired') this.waitTime.record((performance.now() - started) / 1000);
  }

  /** Records how long a connection was lent out. */
  recordUseTime(seconds: number): void {
    this.useTime.record(seconds);
  }

  /** Records how long creating a connection took. */
  recordCreateTime(seconds: number): void {
    this.createTime.record(seconds);
  }

  /** Records an acquire wait measured by the caller. */
  recordWaitTime(seconds: number): void {
    this.waitTime.record(seconds);
  }

  /** Counts an acquire timeout reported by the caller. */
  countTimeout(): void {
    this.timeouts++;
  }

  /** Reads the pool; throws once it is gone. */
  private read(): PoolCounts {
    const pool = this.pool.deref();
    if (pool === undefined) throw new Error('the pool was collected');
    return this.readPool(pool);
  }

  /** Removes the batch callback. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.release();
    this.registration.release();
    this.waiters.clear();
  }

  private observe(result: BatchObservableResult, i: DbPoolInstruments): void {
    let counts: PoolCounts;
    try {
      if (this.pool.deref() === undefined) return; // collected: the finalizer releases us
      counts = this.read();
    } catch (error) {
      reportOnce(
        `pool.${this.options.library}.read`,
        `${this.options.library} pool "${this.options.poolName}" could not be read (unsupported version?): ${describeError(error)}`,
      );
      return;
    }
    if (isCount(counts.used)) result.observe(i.count, counts.used, this.usedAttributes);
    if (isCount(counts.idle)) result.observe(i.count, counts.idle, this.idleAttributes);
    if (isCount(counts.max) && Number.isFinite(counts.max)) result.observe(i.max, counts.max, this.attributes);
    if (isCount(counts.idleMax) && Number.isFinite(counts.idleMax)) result.observe(i.idleMax, counts.idleMax, this.attributes);
    if (isCount(counts.idleMin)) result.observe(i.idleMin, counts.idleMin, this.attributes);
    if (isCount(counts.pending)) result.observe(i.pending, counts.pending, this.attributes);
    const utilization = utilizationOf(counts.used, counts.max);
    if (utilization !== undefined) result.observe(i.utilization, utilization, this.attributes);
    if (this.options.seesTimeouts) result.observe(i.timeouts, this.timeouts, this.attributes);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && !Number.isNaN(value);
}

/** `used / max`, clamped to 0..1, when both are known and max is a finite positive number. */
export function utilizationOf(used: number | undefined, max: number | undefined): number | undefined {
  if (!isCount(used) || !isCount(max) || max === 0 || !Number.isFinite(max)) return undefined;
  return Math.min(1, used / max);
}

/** Seconds since a `performance.now()` reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
