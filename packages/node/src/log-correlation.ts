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

type PinoFactory = ((options?: object, stream?: object) => object) & { symbols?: Record<string, symbol> };
type AsJson = (this: Record<symbol, unknown>, obj: unknown, msg: unknown, num: unknown, time: unknown) => unknown;

/** The prototype every pino logger shares (each logger is `Object.create` of it), and the symbols needed. */
function pinoPrototype(pino: PinoFactory): { shared: Record<symbol, unknown>; asJsonSym: symbol; chindingsSym?: symbol; nestedKeySym?: symbol } | undefined {
  const symbols = pino.symbols;
  const asJsonSym = symbols?.asJsonSym;
  if (typeof asJsonSym !== 'symbol') return undefined;
  // A probe with a stream of its own: pino then opens no destination and registers no exit handler.
  const probe = pino({ enabled: false }, { write() {} });
  const shared = Object.getPrototypeOf(Object.getPrototypeOf(probe)) as Record<symbol, unknown> | null;
  if (shared === null || typeof shared[asJsonSym] !== 'function') return undefined;
  return { shared, asJsonSym, chindingsSym: symbols?.chindingsSym, nestedKeySym: symbols?.nestedKeySym };
}

const ORIGINAL_AS_JSON = Symbol.for('otelkit.log-correlation.pino-as-json.v1');

/** The pino factory in a module's exports (CommonJS: the exports; an ES-module namespace: its default). */
function pinoFactory(exports: unknown): PinoFactory | undefined {
  if (typeof exports === 'function') return exports as PinoFactory;
  const inner = (exports as { default?: unknown; pino?: unknown } | null)?.default ?? (exports as { pino?: unknown } | null)?.pino;
  return typeof inner === 'function' ? (inner as PinoFactory) : undefined;
}

/**
 * Wraps the method that serializes a line, on the prototype all pino loggers share, in place: the
 * fields go in front of the line's own object (after pino merged the app's mixin into it, so the app's
 * fields win), for loggers made before and after, children included, and whether the app imports pino
 * as an ES module or requires it. Left out where the app's child bindings already carry `trace_id`
 * (no duplicate keys) and where `nestedKey` nests the object (the line's shape stays the app's).
 */
function patchPino(exports: unknown): unknown {
  try {
    const factory = pinoFactory(exports);
    const found = factory ? pinoPrototype(factory) : undefined;
    if (found === undefined) {
      reportOnce('log-correlation.pino', 'this pino has no shared serializer otelkit knows; its lines carry no trace ids');
      return exports;
    }
    const { shared, asJsonSym, chindingsSym, nestedKeySym } = found;
    const asJson = shared[asJsonSym] as AsJson;
    if (ORIGINAL_AS_JSON in asJson) return exports;
    const withTrace = function (this: Record<symbol, unknown>, obj: unknown, msg: unknown, num: unknown, time: unknown): unknown {
      const fields = state.active ? traceFields() : undefined;
      if (fields === undefined) return asJson.call(this, obj, msg, num, time);
      const nested = nestedKeySym !== undefined && this[nestedKeySym];
      const bound = chindingsSym !== undefined && typeof this[chindingsSym] === 'string' && (this[chindingsSym] as string).includes('"trace_id":');
      if (nested || bound) return asJson.call(this, obj, msg, num, time);
      return asJson.call(this, typeof obj === 'object' && obj !== null ? { ...fields, ...obj } : fields, msg, num, time);
    };
    Object.defineProperty(withTrace, ORIGINAL_AS_JSON, { value: asJson });
    shared[asJsonSym] = withTrace;
  } catch (error) {
    reportOnce('log-correlation.pino', `adding trace ids to pino failed; its lines carry none: ${describeError(error)}`);
  }
  return exports;
}

function unpatchPino(exports: unknown): void {
  try {
    const factory = pinoFactory(exports);
    const found = factory ? pinoPrototype(factory) : undefined;
    const current = found?.shared[found.asJsonSym] as (AsJson & { [ORIGINAL_AS_JSON]?: AsJson }) | undefined;
    if (found && current?.[ORIGINAL_AS_JSON]) found.shared[found.asJsonSym] = current[ORIGINAL_AS_JSON];
  } catch {
    // Left wrapped: with correlation off it adds nothing.
  }
}

type WinstonModule = { createLogger: (options?: Record<string, unknown>) => unknown; format: WinstonFormat };
type WinstonFormat = ((transform: (info: Record<string, unknown>) => unknown) => () => unknown) & { combine: (...formats: unknown[]) => unknown; json: () => unknown };

/** The fields of the span active when the app logged, carried on winston's info object (never printed). */
const FIELDS = Symbol.for('otelkit.log-correlation.fields.v1');
/** Which fields otelkit wrote on an info object (an object the app logs again gets them renewed, not kept). */
const STAMPED = Symbol.for('otelkit.log-correlation.stamped.v1');

type WinstonLogger = { write?: (info: unknown, ...rest: unknown[]) => unknown };

function patchWinston(exports: unknown): unknown {
  const winston = exports as WinstonModule;
  if (typeof winston?.createLogger !== 'function' || typeof winston.format !== 'function') return exports;
  // Added before the logger's own format (winston's default is json), so every transport sees the
  // fields; they are those of the span active when the app logged (winston may run formats later).
  const traceFormat = winston.format((info) => {
    const record = info as Record<string | symbol, unknown>;
    const fields = record[FIELDS] as ReturnType<typeof traceFields>;
    delete record[FIELDS];
    const stamped = record[STAMPED] as string[] | undefined;
    if (stamped !== undefined) for (const key of stamped) delete record[key];
    if (fields === undefined) {
      delete record[STAMPED];
      return info;
    }
    const added: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (key in record) continue;
      record[key] = value;
      added.push(key);
    }
    Object.defineProperty(record, STAMPED, { value: added, configurable: true, enumerable: false });
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
      const logger = (original as (options?: Record<string, unknown>) => unknown).call(this, prepared) as WinstonLogger;
      try {
        // Every record reaches write() when the app logs (children call their parent's).
        const write = logger?.write;
        if (typeof write === 'function') {
          logger.write = function (this: unknown, info: unknown, ...rest: unknown[]): unknown {
            if (typeof info === 'object' && info !== null) {
              const fields = state.active ? traceFields() : undefined;
              Object.defineProperty(info, FIELDS, { value: fields, configurable: true, enumerable: false, writable: true });
            }
            return write.call(this, info, ...rest);
          };
        }
      } catch (error) {
        reportOnce('log-correlation.winston', `adding trace ids to a winston logger failed; it logs without them: ${describeError(error)}`);
      }
      return logger;
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
