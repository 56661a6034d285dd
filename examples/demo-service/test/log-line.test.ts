import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, waitFor } from '../../../test-support/demo-and-prometheus.js';

// The demo logs a failed request with pino; under the preload the line carries the trace id the
// caller got in its traceresponse header (no logging code of otelkit's in the demo).

describe('the demo log line', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  beforeAll(async () => {
    demo = await startDemo({ DEMO_LOAD: '0', DEMO_SUMMARY_SECONDS: '0', DEMO_LOG_EVERY_MS: '0' });
  }, 30_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it("carries the failed request's trace id", async () => {
    const response = await fetch(`http://127.0.0.1:${demo.appPort}/fail`);
    expect(response.status).toBe(500);
    const [, traceId, spanId] = response.headers.get('traceresponse')!.split('-');
    let line: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        line = demo
          .output()
          .split('\n')
          .filter((text) => text.startsWith('{'))
          .map((text) => JSON.parse(text) as Record<string, unknown>)
          .find((entry) => entry.trace_id === traceId);
        return line !== undefined;
      },
      10_000,
      () => demo.output(),
    );
    expect(line).toMatchObject({ level: 50, msg: 'request failed', route: '/fail', span_id: spanId, trace_flags: '01', service: 'otelkit-demo' });
  });
});
