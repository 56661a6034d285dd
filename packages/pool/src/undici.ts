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

/**
 * Binds a dispatcher's metrics. The dispatcher is held weakly (`read` gets it as an argument and must
 * not capture it), so one the app drops without closing it is still collected.
 */
function bindUndici(wantedName: string, dispatcher: object, readDispatcher: (dispatcher: object) => OriginReading[]): PoolHandle {
  // Collected while bound: the callback goes and the name is freed (see below).
  let onCollected = (): void => {};
  const target = holdWeakly(dispatcher, () => onCollected());
  const read = (): OriginReading[] => {
    const current = target.deref();
    return current === undefined ? [] : readDispatcher(current);
  };
  // Claimed like a database pool's name, so releasing it on unbind never frees another pool's claim.
  const poolName = claimPoolName(wantedName, true);
  const attributesByOrigin = new Map<string, OriginAttributes>();
  const attributesOf = (origin: string): OriginAttributes => {
    let attributes = attributesByOrigin.get(origin);
    if (!attributes) {
      attributes = originAttributes(origin);
      attributesByOrigin.set(origin, attributes);
    }
    return attributes;
  };
  const callback = (result: BatchObservableResult, instruments: HttpPoolInstruments): void => {
    let readings: OriginReading[];
    try {
      readings = read();
    } catch (error) {
      reportOnce('pool.undici.read', `undici dispatcher "${poolName}" could not be read (unsupported version?): ${describeError(error)}`);
      return;
    }
    for (const { origin, stats, limit } of readings) {
      const attributes = attributesOf(origin);
      if (typeof stats.free === 'number') {
        const active = stats.connected - stats.free;
        result.observe(instruments.open, active, attributes.active);
        result.observe(instruments.open, stats.free, attributes.idle);
        const utilization = utilizationOf(active, limit);
        if (utilization !== undefined) result.observe(instruments.utilization, utilization, attributes.base);
      }
      if (typeof stats.queued === 'number') result.observe(instruments.queued, stats.queued, attributes.base);
      result.observe(instruments.pending, stats.pending, attributes.base);
    }
  };
  // On otelkit's meter of the provider in force, following it if it is set or replaced later.
  const registration = registerBatch(
    POOL_SCOPE,
    (meter) => {
      const i = httpPoolInstruments(meter);
      return { instruments: i, observables: [i.open, i.queued, i.pending, i.utilization] };
    },
    callback,
  );

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
    registration.release();
    releasePoolName(poolName);
  };
  return createPoolHandle(poolName, () => {
    target.release();
    registration.release();
  }, snapshot);
}
