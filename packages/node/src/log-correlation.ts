import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { describeError, isReplacement, replaceExports, reportOnce, restoreExports, type ModuleBridge } from '@otelkit/core';


/**
 * Log correlation with no code: pino and winston records written inside a request (any active span,
 * recorded or not) carry `trace_id`, `span_id` and `trace_flags`, the OpenTelemetry log data model's
 * names; records outside any span carry none. The app's own fields win over these, and its formats
 * are otherwise untouched. `OTELKIT_LOG_CORRELATION=false` (or `OTELKIT_BRIDGES_DISABLED=pino,winston`)
 * turns it off.
 */

/** The active span's ids as log fields, or undefined outside any span. */
export function traceFields(): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0') };
}

const state = { active: true };

type PinoFactory = ((options?: object) => object) & { symbols?: Record<string, symbol> };
type WriteMethod = (this: Record<symbol, unknown>, obj: unknown, msg: unknown, num: unknown) => unknown;

/** The prototype every pino logger shares (each logger is `Object.create` of it), and its write method's key. */
function pinoPrototype(pino: PinoFactory): { shared: Record<symbol, unknown>; writeSym: symbol; errorKeySym: symbol | undefined } | undefined {
  const writeSym = pino.symbols?.writeSym;
  if (typeof writeSym !== 'symbol') return undefined;
  const probe = pino({ enabled: false });
  const shared = Object.getPrototypeOf(Object.getPrototypeOf(probe)) as Record<symbol, unknown> | null;
  if (shared === null || typeof shared[writeSym] !== 'function') return undefined;
  return { shared, writeSym, errorKeySym: pino.symbols?.errorKeySym };
}

const ORIGINAL_WRITE = Symbol.for('otelkit.log-correlation.pino-write.v1');

/**
 * Wraps the write method on the prototype all pino loggers share, in place: the fields go in front
 * of the call's own object (whose fields win), for loggers made before and after, children included,
 * and whether the app imports pino as an ES module or requires it.
 */
/** The pino factory in a module's exports (CommonJS: the exports; an ES-module namespace: its default). */
function pinoFactory(exports: unknown): PinoFactory | undefined {
  if (typeof exports === 'function') return exports as PinoFactory;
  const inner = (exports as { default?: unknown; pino?: unknown } | null)?.default ?? (exports as { pino?: unknown } | null)?.pino;
  return typeof inner === 'function' ? (inner as PinoFactory) : undefined;
}

function patchPino(exports: unknown): unknown {
  try {
    const factory = pinoFactory(exports);
    const found = factory ? pinoPrototype(factory) : undefined;
    if (found === undefined) {
      reportOnce('log-correlation.pino', `this pino (exports: ${typeof exports}) has no shared write method otelkit knows; its lines carry no trace ids`);
      return exports;
    }
    const { shared, writeSym, errorKeySym } = found;
    const write = shared[writeSym] as WriteMethod;
    if (ORIGINAL_WRITE in write) return exports;
    const withTrace = function (this: Record<symbol, unknown>, obj: unknown, msg: unknown, num: unknown): unknown {
      const fields = state.active ? traceFields() : undefined;
      if (fields === undefined) return write.call(this, obj, msg, num);
      if (obj instanceof Error) {
        // As pino does with an error alone: it goes under the error key, its message is the line's.
        const errorKey = (errorKeySym !== undefined ? this[errorKeySym] : undefined) ?? 'err';
        return write.call(this, { ...fields, [errorKey as string]: obj }, msg === undefined ? obj.message : msg, num);
      }
      return write.call(this, typeof obj === 'object' && obj !== null ? { ...fields, ...obj } : fields, msg, num);
    };
    Object.defineProperty(withTrace, ORIGINAL_WRITE, { value: write });
    shared[writeSym] = withTrace;
  } catch (error) {
    reportOnce('log-correlation.pino', `adding trace ids to pino failed; its lines carry none: ${describeError(error)}`);
  }
  return exports;
}

function unpatchPino(exports: unknown): void {
  try {
    const factory = pinoFactory(exports);
    const found = factory ? pinoPrototype(factory) : undefined;
    const current = found?.shared[found.writeSym] as (WriteMethod & { [ORIGINAL_WRITE]?: WriteMethod }) | undefined;
    if (found && current?.[ORIGINAL_WRITE]) found.shared[found.writeSym] = current[ORIGINAL_WRITE];
  } catch {
    // Left wrapped: with correlation off it adds nothing.
  }
}

type WinstonModule = { createLogger: (options?: Record<string, unknown>) => unknown; format: WinstonFormat };
type WinstonFormat = ((transform: (info: Record<string, unknown>) => unknown) => () => unknown) & { combine: (...formats: unknown[]) => unknown; json: () => unknown };

function patchWinston(exports: unknown): unknown {
  const winston = exports as WinstonModule;
  if (typeof winston?.createLogger !== 'function' || typeof winston.format !== 'function') return exports;
  // Added before the logger's own format (winston's default is json), so every transport sees the fields.
  const traceFormat = winston.format((info) => {
    const fields = state.active ? traceFields() : undefined;
    if (fields !== undefined) for (const [key, value] of Object.entries(fields)) if (!(key in info)) info[key] = value;
    return info;
  });
  return replaceExports(winston, ['createLogger'], (original) =>
    function createLogger(this: unknown, options?: Record<string, unknown>): unknown {
      let prepared = options;
      try {
        prepared = { ...options, format: winston.format.combine(traceFormat(), options?.format ?? winston.format.json()) };
      } catch (error) {
        reportOnce('log-correlation.winston', `adding trace ids to a winston logger failed; it logs without them: ${describeError(error)}`);
      }
      return (original as (options?: Record<string, unknown>) => unknown).call(this, prepared);
    } as never,
  ).exports;
}

/** The zero-code bridges of log correlation (pino, winston), for the preload. */
export const LOG_CORRELATION_BRIDGES: readonly ModuleBridge[] = Object.freeze([
  Object.freeze({
    name: 'pino',
    moduleName: 'pino',
    supportedVersions: ['>=8 <11'],
    patch: (exports: unknown) => {
      state.active = true;
      return patchPino(exports);
    },
    unpatch: (exports: unknown) => {
      state.active = false;
      unpatchPino(exports);
    },
  }),
  Object.freeze({
    name: 'winston',
    moduleName: 'winston',
    supportedVersions: ['>=3 <4'],
    patch: (exports: unknown) => {
      state.active = true;
      return patchWinston(exports);
    },
    unpatch: (exports: unknown) => {
      state.active = false;
      if (isReplacement((exports as WinstonModule | undefined)?.createLogger)) restoreExports(exports, ['createLogger']);
    },
  }),
]);
