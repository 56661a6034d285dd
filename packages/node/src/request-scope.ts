import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
  type TraceState,
} from '@opentelemetry/api';

// The keys @opentelemetry/api and @opentelemetry/core store a context's span and RPC metadata under
// (createContextKey is Symbol.for(description)): so trace.getSpan() and getRPCMetadata() read ours.
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
/** Where @opentelemetry/core's getRPCMetadata() looks (instrumentation-express sets the route there). */
export const RPC_METADATA_KEY = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');
/** @opentelemetry/core's `RPCType.HTTP`. */
export const RPC_TYPE_HTTP = 'http';
const DELETED = Symbol('otelkit.context.deleted');

/** A context one entry away from its parent: what `setValue`/`deleteValue` on a request's context give. */
class DerivedContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    if (key === this.key) return this.value === DELETED ? undefined : this.value;
    return this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new DerivedContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new DerivedContext(this, key, DELETED);
  }
}

/**
 * One server request in flight, and the context its handler runs in: the caller's context (from
 * `traceparent`) plus the request's span and its RPC metadata, which is this object itself (so
 * `setHttpRoute` and instrumentation-express set `route` here). One object per request instead of
 * a context, a context copy per value and a metadata object.
 */
export class RequestScope implements Context {
  readonly type = RPC_TYPE_HTTP;
  route: string | undefined = undefined;
  done = false;
  /** The connection it came on, while it is in flight (see http-server.ts). */
  socket: object | undefined = undefined;

  constructor(
    private readonly parent: Context,
    readonly span: Span,
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly startMs: number,
    readonly method: number,
    readonly https: boolean,
    readonly protocol: number,
  ) {}

  getValue(key: symbol): unknown {
    if (key === SPAN_KEY) return this.span;
    if (key === RPC_METADATA_KEY) return this;
    return this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new DerivedContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new DerivedContext(this, key, DELETED);
  }
}

/**
 * A span that is only a span context (what a request gets when no spans are recorded): it carries
 * the ids to `traceresponse` and to outgoing calls, and every recording method does nothing.
 * It is its own span context.
 */
export class ContextOnlySpan implements Span, SpanContext {
  readonly isRemote = false;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
  ) {}

  spanContext(): SpanContext {
    return this;
  }
  setAttribute(_key: string, _value: SpanAttributeValue): this {
    return this;
  }
  setAttributes(_attributes: SpanAttributes): this {
    return this;
  }
  addEvent(_name: string, _attributesOrStartTime?: SpanAttributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}
