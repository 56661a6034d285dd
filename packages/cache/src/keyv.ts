import { contain, createHandle, noopHandle, noteNewBinding, reportOnce, reuseBinding, type BridgeHandle } from '@otelkit/core';
import { CacheCounts } from './counts.js';
import { registerCacheMetrics, validName } from './metrics.js';

type HookHandler = (...args: unknown[]) => void;

/** The part of a keyv 5 instance the bridge uses: its hooks manager. */
export interface KeyvLike {
  readonly hooks: {
    addHandler(event: string, handler: HookHandler): void;
    removeHandler(event: string, handler: HookHandler): void;
  };
}

/** Options of {@link instrumentKeyv}. */
export interface KeyvBridgeOptions {
  /** The `cache.name` attribute; unique per cache. */
  name: string;
}

const handles = new WeakMap<object, BridgeHandle>();

function isKeyv(value: unknown): value is KeyvLike {
  if (typeof value !== 'object' || value === null) return false;
  const hooks = (value as { hooks?: Record<string, unknown> }).hooks;
  return (
    typeof hooks === 'object' &&
    hooks !== null &&
    typeof hooks.addHandler === 'function' &&
    typeof hooks.removeHandler === 'function'
  );
}

/**
 * Instruments a keyv 5 instance (any store, e.g. `@keyv/redis`) through its hooks: `postGet` and
 * `postGetRaw` count a hit when a value came back and a miss otherwise, `postGetMany` and
 * `postGetManyRaw` count each key, `postSet` counts puts, `postDelete` counts evictions with reason
 * `delete` (keyv deletes an expired entry it reads this way too). Entry counts live in the store and
 * are not reported. `unbind()` removes the handlers. Binding the same instance twice returns the first handle (a zero-code binding is replaced instead).
 *
 * @example
 * const keyv = new Keyv({ store: new KeyvRedis('redis://127.0.0.1:6379'), namespace: 'users' });
 * const handle = instrumentKeyv(keyv, { name: 'users' });
 */
export function instrumentKeyv(keyv: KeyvLike, options: KeyvBridgeOptions): BridgeHandle {
  if (!isKeyv(keyv)) {
    reportOnce(
      'instrumentKeyv target',
      'instrumentKeyv: the target is not a keyv 5 instance (hooks.addHandler/removeHandler); it is not instrumented.',
    );
    return noopHandle();
  }
  const name = validName('instrumentKeyv', options);
  if (name === undefined) return noopHandle();
  // Core's bind-once rule: an explicit call replaces a zero-code binding (e.g. to name the cache).
  const existing = reuseBinding(handles.get(keyv), () => true);
  if (existing) return existing;

  const counts = new CacheCounts();
  const countOne = (value: unknown): void => {
    if (value === undefined || value === null) counts.misses++;
    else counts.hits++;
  };
  const countMany = (values: unknown): void => {
    if (Array.isArray(values)) for (const value of values) countOne(value);
  };
  const handlers: Array<[string, (data: never) => void]> = [
    ['postGet', contain('instrumentKeyv postGet', (data: { value?: unknown }) => countOne(data?.value))],
    ['postGetRaw', contain('instrumentKeyv postGetRaw', (data: { value?: unknown }) => countOne(data?.value))],
    ['postGetMany', contain('instrumentKeyv postGetMany', (values: unknown) => countMany(values))],
    [
      'postGetManyRaw',
      contain('instrumentKeyv postGetManyRaw', (data: { values?: unknown }) => countMany(data?.values)),
    ],
    [
      'postSet',
      contain('instrumentKeyv postSet', () => {
        counts.puts++;
      }),
    ],
    [
      'postDelete',
      contain('instrumentKeyv postDelete', (data: { key?: unknown; value?: unknown }) => {
        if (data?.value === false) return;
        counts.recordEviction('delete', Array.isArray(data?.key) ? data.key.length : 1);
      }),
    ],
  ];
  for (const [event, handler] of handlers) keyv.hooks.addHandler(event, handler as HookHandler);
  const releaseMetrics = registerCacheMetrics({ name, target: keyv, counts, requests: true, puts: true, evictions: ['delete'] });

  const handle = createHandle(() => {
    for (const [event, handler] of handlers) keyv.hooks.removeHandler(event, handler as HookHandler);
    releaseMetrics();
    if (handles.get(keyv) === handle) handles.delete(keyv);
  });
  handles.set(keyv, noteNewBinding(handle));
  return handle;
}
