import type { Agent as UndiciAgent, Pool as UndiciPool } from 'undici';
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import {
  ATTR,
  HTTP_CLIENT_CONNECTION_UTILIZATION,
  HTTP_CLIENT_OPEN_CONNECTIONS,
  HTTP_CLIENT_PENDING_REQUESTS,
  HTTP_CLIENT_QUEUED_REQUESTS,
  createInstrument,
  describeError,
  holdWeakly,
  perMeter,
  registerBatch,
  type BatchRegistration,
  reportOnce,
} from '@otelkit/core';
import { POOL_SCOPE, utilizationOf } from './db-pool-metrics.js';
import { bindOnce, claimPoolName, createPoolHandle, isObject, rejectArgument, releasePoolName } from './pool-handle.js';
import type { PoolHandle, PoolSnapshot } from './types.js';

/** Options of {@link instrumentUndici}. */
export interface UndiciBridgeOptions {
  /**
   * Name the handle reports as `poolName` (readiness details, logs). Metrics carry the origin
   * (`server.address`, `server.port`, `url.scheme`) as the HTTP semantic conventions ask, not a pool name.
   * @default the Pool's origin, or `undici-agent` for an Agent
   */
  readonly poolName?: string;
}

interface OriginStats {
  readonly connected: number;
  readonly free?: number;
  readonly pending: number;
  readonly queued?: number;
  readonly running: number;
}

interface OriginReading {
  readonly origin: string;
  readonly stats: OriginStats;
  readonly limit: number | undefined;
}

interface HttpPoolInstruments {
  readonly open: Observable;
  readonly queued: Observable;
  readonly pending: Observable;
  readonly utilization: Observable;
}

/** The instruments on a meter, made once per meter and shared by every bound dispatcher. */
const httpPoolInstruments = perMeter(
  (meter: Meter): HttpPoolInstruments => ({
    open: createInstrument(meter, HTTP_CLIENT_OPEN_CONNECTIONS),
    queued: createInstrument(meter, HTTP_CLIENT_QUEUED_REQUESTS),
    pending: createInstrument(meter, HTTP_CLIENT_PENDING_REQUESTS),
    utilization: createInstrument(meter, HTTP_CLIENT_CONNECTION_UTILIZATION),
  }),
);

/** A symbol-keyed property found by its description (undici keeps origin and limits behind private symbols). */
function symbolValue(target: object, description: string): unknown {
  for (const symbol of Object.getOwnPropertySymbols(target)) {
    if (symbol.description === description) return (target as Record<symbol, unknown>)[symbol];
  }
  return undefined;
}

function isStats(value: unknown): value is OriginStats {
  return isObject(value) && typeof value.connected === 'number' && typeof value.pending === 'number' && typeof value.running === 'number';
}

interface OriginAttributes {
  readonly base: Attributes;
  readonly active: Attributes;
  readonly idle: Attributes;
}

function originAttributes(origin: string): OriginAttributes {
  let base: Attributes;
  try {
    const url = new URL(origin);
    const scheme = url.protocol.replace(/:$/, '');
    const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
    base = { [ATTR.SERVER_ADDRESS]: url.hostname, [ATTR.SERVER_PORT]: port, [ATTR.URL_SCHEME]: scheme };
  } catch {
    base = { [ATTR.SERVER_ADDRESS]: origin };
  }
  return {
    base: Object.freeze(base),
    active: Object.freeze({ ...base, [ATTR.HTTP_CONNECTION_STATE]: 'active' }),
    idle: Object.freeze({ ...base, [ATTR.HTTP_CONNECTION_STATE]: 'idle' }),
  };
}

/**
 * Bridges an undici 6/7 `Pool` or `Agent` to the HTTP-client pool metrics, from `stats` read at
 * collection time: `http.client.open_connections{http.connection.state=active|idle}`
 * (`connected - free` / `free`), `http.client.queued_requests` (`queued`),
 * `http.client.pending_requests` (`pending`) and, when the pool has a `connections` limit,
 * `http.client.connection.utilization`. An Agent reports one series per origin it holds a pool for.
 * No listener is added. Not reported: wait/use/create times (undici exposes no per-connection events
 * for pools), and Node's built-in `fetch` (its undici copy is internal; bind the Agent you pass as
 * `dispatcher` instead).
 *
 * @example
 * const pool = new Pool('http://127.0.0.1:8080', { connections: 10 });
 * const handle = instrumentUndici(pool);
 * // … later
 * handle.unbind();
 */
export function instrumentUndici(dispatcher: UndiciPool | UndiciAgent, options: UndiciBridgeOptions = {}): PoolHandle {
  if (!isObject(dispatcher)) return rejectArgument('undici', 'expected an undici Pool or Agent');
  let stats: unknown;
  try {
    stats = (dispatcher as { stats?: unknown }).stats;
  } catch {
    stats = undefined;
  }
  if (isStats(stats)) {
    const url = symbolValue(dispatcher, 'url');
    const origin = url instanceof URL ? url.origin : undefined;
    if (origin === undefined) return rejectArgument('undici', 'undici Pool without a readable origin (unsupported version)');
    return bindOnce(dispatcher, () =>
      bindUndici(options.poolName ?? origin, dispatcher, readUndiciPool),
      options.poolName,
      ['close', 'destroy'],
    );
  }
  if (isObject(stats)) {
    return bindOnce(dispatcher, () =>
      bindUndici(options.poolName ?? 'undici-agent', dispatcher, readUndiciAgent),
      options.poolName,
      ['close', 'destroy'],
    );
  }
  return rejectArgument('undici', 'expected an undici Pool or Agent with `stats` (undici >= 6.15 / 7)');
}

// Module-level readers: one made inside instrumentUndici would share its context, and so hold the dispatcher.
function readUndiciPool(pool: object): OriginReading[] {
  const url = symbolValue(pool, 'url');
  if (!(url instanceof URL)) return [];
  const limit = symbolValue(pool, 'connections');
  return [{ origin: url.origin, stats: (pool as UndiciPool).stats as unknown as OriginStats, limit: typeof limit === 'number' ? limit : undefined }];
}

function readUndiciAgent(agent: object): OriginReading[] {
  const agentOptions = symbolValue(agent, 'options');
  const limit = isObject(agentOptions) && typeof agentOptions.connections === 'number' ? agentOptions.connections : undefined;
  const readings: OriginReading[] = [];
  for (const [origin, originStats] of Object.entries((agent as UndiciAgent).stats as Record<string, unknown>)) {
    if (isStats(originStats)) readings.push({ origin, stats: originStats, limit });
  }
  return readings;
}

/** A bound dispatcher, as the shared callback reads it. */
type LiveDispatcher = { readonly read: () => OriginReading[]; readonly poolName: string };

const live = new Set<LiveDispatcher>();
let shared: BatchRegistration | undefined;
const attributesByOrigin = new Map<string, OriginAttributes>();

function attributesOf(origin: string): OriginAttributes {
  let attributes = attributesByOrigin.get(origin);
  if (!attributes) {
    attributes = originAttributes(origin);
    attributesByOrigin.set(origin, attributes);
  }
  return attributes;
}

type OriginTotals = { active: number; idle: number; sawFree: boolean; queued: number; sawQueued: boolean; pending: number; limit: number; limitKnown: boolean };

/**
 * One callback for every bound dispatcher: the http.client.* attributes name only the origin, so two
 * dispatchers (Agents, Pools) to one origin are summed into its series rather than writing the same
 * series twice (the SDK would keep one of them).
 */
function observeAll(result: BatchObservableResult, instruments: HttpPoolInstruments): void {
  const totals = new Map<string, OriginTotals>();
  for (const dispatcher of live) {
    let readings: OriginReading[];
    try {
      readings = dispatcher.read();
    } catch (error) {
      reportOnce('pool.undici.read', `undici dispatcher "${dispatcher.poolName}" could not be read (unsupported version?): ${describeError(error)}`);
      continue;
    }
    for (const { origin, stats, limit } of readings) {
      let total = totals.get(origin);
      if (total === undefined) {
        total = { active: 0, idle: 0, sawFree: false, queued: 0, sawQueued: false, pending: 0, limit: 0, limitKnown: true };
        totals.set(origin, total);
      }
      if (typeof stats.free === 'number') {
        total.sawFree = true;
        total.active += stats.connected - stats.free;
        total.idle += stats.free;
      }
      if (typeof stats.queued === 'number') {
        total.sawQueued = true;
        total.queued += stats.queued;
      }
      total.pending += stats.pending;
      if (typeof limit === 'number') total.limit += limit;
      else total.limitKnown = false;
    }
  }
  for (const [origin, total] of totals) {
    const attributes = attributesOf(origin);
    if (total.sawFree) {
      result.observe(instruments.open, total.active, attributes.active);
      result.observe(instruments.open, total.idle, attributes.idle);
      const utilization = total.limitKnown ? utilizationOf(total.active, total.limit) : undefined;
      if (utilization !== undefined) result.observe(instruments.utilization, utilization, attributes.base);
    }
    if (total.sawQueued) result.observe(instruments.queued, total.queued, attributes.base);
    result.observe(instruments.pending, total.pending, attributes.base);
  }
}

function join(dispatcher: LiveDispatcher): void {
  live.add(dispatcher);
  // On otelkit's meter of the provider in force, following it if it is set or replaced later.
  shared ??= registerBatch(
    POOL_SCOPE,
    (meter) => {
      const i = httpPoolInstruments(meter);
      return { instruments: i, observables: [i.open, i.queued, i.pending, i.utilization] };
    },
    observeAll,
  );
}

function leave(dispatcher: LiveDispatcher): void {
  if (!live.delete(dispatcher) || live.size > 0) return;
  shared?.release();
  shared = undefined;
}

/**
 * Binds a dispatcher's metrics. The dispatcher is held weakly (`read` gets it as an argument and must
 * not capture it), so one the app drops without closing it is still collected.
 */
function bindUndici(wantedName: string, dispatcher: object, readDispatcher: (dispatcher: object) => OriginReading[]): PoolHandle {
  // Collected while bound: it leaves the shared callback and its name is freed (see below).
  let onCollected = (): void => {};
  const target = holdWeakly(dispatcher, () => onCollected());
  const read = (): OriginReading[] => {
    const current = target.deref();
    return current === undefined ? [] : readDispatcher(current);
  };
  // Claimed like a database pool's name, so releasing it on unbind never frees another pool's claim.
  const poolName = claimPoolName(wantedName, true);
  const entry: LiveDispatcher = { read, poolName };
  join(entry);

  const snapshot = (): PoolSnapshot => {
    let used = 0;
    let idle = 0;
    let pending = 0;
    let utilization: number | undefined;
    let max: number | undefined;
    const readings = read();
    for (const { stats, limit } of readings) {
      const free = stats.free ?? 0;
      used += stats.connected - free;
      idle += free;
      pending += stats.queued ?? 0;
      const originUtilization = utilizationOf(stats.connected - free, limit);
      if (originUtilization !== undefined) utilization = Math.max(utilization ?? 0, originUtilization);
      if (readings.length === 1) max = limit;
    }
    return {
      used,
      idle,
      pending,
      ...(max === undefined ? {} : { max }),
      ...(utilization === undefined ? {} : { utilization }),
    };
  };
  onCollected = () => {
    leave(entry);
    releasePoolName(poolName);
  };
  return createPoolHandle(poolName, () => {
    target.release();
    leave(entry);
  }, snapshot);
}
