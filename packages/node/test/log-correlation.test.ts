import { afterEach, describe, expect, it } from 'vitest';
import { eventuallyPasses, freePort, request, startApp, type RunningApp } from './support.js';

// pino 10 and winston 3 from npm, in an app started under the preload (fixtures/log-app.mjs): a line
// logged in a request carries the trace id its traceresponse header carries; lines outside carry none.

type Line = Record<string, unknown>;

function jsonLines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}

describe('log correlation (pino, winston)', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  for (const tracing of [false, true]) {
    it(`puts the request's trace id in pino and winston lines, and none outside requests (${tracing ? 'spans exported' : 'metrics only'})`, async () => {
      app = await startApp('log-app.mjs', {
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
        ...(tracing ? { OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '600000' } : {}),
      });
      const response = await request(`http://127.0.0.1:${app.port}/work`);
      const [, traceId, spanId, flags] = response.headers.get('traceresponse')!.split('-');
      await eventuallyPasses(() => expect(jsonLines(app!.output().stdout).filter((line) => line.at === 'request')).toHaveLength(2));
      const lines = jsonLines(app.output().stdout);
      for (const logger of ['pino', 'winston']) {
        const start = lines.find((line) => line.logger === logger && line.at === 'start')!;
        expect(start).toBeDefined();
        expect(start).not.toHaveProperty('trace_id');
        expect(start).not.toHaveProperty('span_id');
        const handled = lines.find((line) => line.logger === logger && line.at === 'request')!;
        expect(handled).toMatchObject({ trace_id: traceId, span_id: spanId, trace_flags: flags, app: 'log-app', request: '/work' });
      }
      // An object logged in the request and again from a timer: only the request's line has the ids.
      await eventuallyPasses(() => expect(jsonLines(app!.output().stdout).filter((line) => line.source === 'timer').length).toBeGreaterThan(0));
      const shared = jsonLines(app.output().stdout).filter((line) => line.logger === 'winston-shared');
      expect(shared.find((line) => line.source === 'request')).toMatchObject({ trace_id: traceId });
      for (const line of shared.filter((entry) => entry.source === 'timer')) expect(line).not.toHaveProperty('trace_id');
      // The app's own mixin still runs, and its fields are kept.
      expect(lines.find((line) => line.logger === 'pino' && line.at === 'request')).toMatchObject({ own: 'kept', msg: 'handled' });
      expect(lines.find((line) => line.logger === 'winston' && line.at === 'request')).toMatchObject({ message: 'handled', level: 'info' });
    });
  }

  it('adds nothing with OTELKIT_LOG_CORRELATION=false', async () => {
    app = await startApp('log-app.mjs', { OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()), OTELKIT_LOG_CORRELATION: 'false' });
    await request(`http://127.0.0.1:${app.port}/work`);
    await eventuallyPasses(() => expect(jsonLines(app!.output().stdout).filter((line) => line.at === 'request')).toHaveLength(2));
    for (const line of jsonLines(app.output().stdout)) expect(line).not.toHaveProperty('trace_id');
  });
});
