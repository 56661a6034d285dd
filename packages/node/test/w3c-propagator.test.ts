import { context, defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { CompositePropagator, suppressTracing, TraceState, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { W3CPropagator } from '../src/w3c-propagator.js';

// otelkit's own W3C propagator (on the API alone, for start-up) must behave as the SDK's.
const ours = new W3CPropagator();
const sdk = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });

const HEADERS: Array<Record<string, string | string[]>> = [
  { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00', tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' },
  { traceparent: '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-extra' },
  { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra' },
  { traceparent: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' },
  { traceparent: '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01' },
  { traceparent: '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01' },
  { traceparent: 'garbage' },
  { traceparent: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'] },
  { baggage: 'userId=alice,serverNode=DF%2028,isProduction=false;p=1' },
  { baggage: 'bad,=x,k=%E0%A4%A' },
  { baggage: ['a=1', 'b=2'], traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: '' },
  { baggage: 'k=v;,=empty,empty=,  spaced  =  v  ;p' },
  { baggage: `${'x'.repeat(4097)}=1,ok=1` },
];

function describeContext(ctx: ReturnType<typeof ours.extract>) {
  const spanContext = trace.getSpanContext(ctx);
  return {
    span: spanContext && { ...spanContext, traceState: spanContext.traceState?.serialize() },
    baggage: propagation.getBaggage(ctx)?.getAllEntries().map(([key, entry]) => [key, entry.value, entry.metadata?.toString()]),
  };
}

describe('otelkit W3C propagator', () => {
  for (const headers of HEADERS) {
    it(`extracts as the SDK does: ${JSON.stringify(headers)}`, () => {
      expect(describeContext(ours.extract(ROOT_CONTEXT, headers, defaultTextMapGetter))).toEqual(
        describeContext(sdk.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)),
      );
    });
  }

  it('injects the same headers as the SDK', () => {
    let ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      traceState: new TraceState('rojo=00f067aa0ba902b7'),
    });
    ctx = propagation.setBaggage(ctx, propagation.createBaggage({ user: { value: 'a b,c' }, n: { value: '1' } }));
    const fromOurs: Record<string, string> = {};
    const fromSdk: Record<string, string> = {};
    ours.inject(ctx, fromOurs, defaultTextMapSetter);
    sdk.inject(ctx, fromSdk, defaultTextMapSetter);
    expect(fromOurs).toEqual(fromSdk);
    expect(fromOurs.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const nothing: Record<string, string> = {};
    ours.inject(context.active(), nothing, defaultTextMapSetter);
    expect(nothing).toEqual({});
    const suppressed: Record<string, string> = {};
    ours.inject(suppressTracing(ctx), suppressed, defaultTextMapSetter);
    expect(suppressed).toEqual({});
  });
});
