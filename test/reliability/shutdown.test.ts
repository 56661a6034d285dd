import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeCollector, type FakeCollector } from '../../test-support/otlp-collector.js';
import { eventually, freePort, RELIABILITY_FIXTURES, scrape, spanAccounting, startApp, type App } from './support.js';

/* Stopping: SIGTERM with spans buffered, with the collector up, down or black-holed; exit hygiene. */

let app: App | undefined;
let collector: FakeCollector | undefined;

afterEach(async () => {
  await app?.stop();
  await collector?.close();
  app = undefined;
  collector = undefined;
});

/** 1,000 spans made before the app listens, all held in the queue (no timed export, one batch fits all). */
const BUFFERED = { SPANS_AT_START: '1000', OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048', OTEL_TRACES_EXPORTER: 'otlp' };

async function buffered(app: App): Promise<number> {
  return spanAccounting(await scrape(app)).queued;
}

describe('SIGTERM with 1,000 buffered spans and a healthy collector', () => {
  for (const appHandler of [true, false]) {
    it(`delivers all 1,000 and exits within 5 s (${appHandler ? "the app's own SIGTERM handler runs and exits" : 'no app handler: exit by the signal'})`, async () => {
      collector = await startFakeCollector({ kind: 'ok' });
      app = await startApp('traffic-app.mjs', { ...BUFFERED, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, ...(appHandler ? { APP_SIGTERM: '1' } : {}) });
      expect(await buffered(app)).toBe(1000);
      const sent = performance.now();
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      const exitMs = exit.at - sent;
      console.log(`SIGTERM (${appHandler ? 'app handler' : 'no handler'}): ${collector.spansAccepted} spans delivered, exit after ${exitMs.toFixed(0)} ms`);
      expect(collector.spansAccepted).toBe(1000);
      expect(exitMs).toBeLessThan(5000);
      if (appHandler) {
        expect(app.output().stdout).toContain('APP SIGTERM');
        expect(exit.code).toBe(0);
      } else {
        expect(exit.signal).toBe('SIGTERM');
      }
    });
  }
});

describe('SIGTERM with the collector unreachable', () => {
  for (const state of ['down (connection refused)', 'black-holed (never answers)'] as const) {
    it(`exits within the shutdown budget (OTELKIT_SHUTDOWN_TIMEOUT_MS, 5 s by default): collector ${state}`, async () => {
      let url: string;
      if (state.startsWith('down')) {
        url = `http://127.0.0.1:${await freePort()}`;
      } else {
        collector = await startFakeCollector({ kind: 'blackhole' });
        url = collector.url;
      }
      app = await startApp('traffic-app.mjs', { ...BUFFERED, OTEL_EXPORTER_OTLP_ENDPOINT: url, APP_SIGTERM: '1' });
      expect(await buffered(app)).toBe(1000);
      const sent = performance.now();
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      const exitMs = exit.at - sent;
      console.log(`SIGTERM, collector ${state}: exit after ${exitMs.toFixed(0)} ms`);
      expect(app.output().stdout).toContain('APP SIGTERM');
      expect(exit.code).toBe(0);
      // The flush got its 5 s budget (the spans could not go), then the app exited.
      expect(exitMs).toBeGreaterThanOrEqual(4900);
      expect(exitMs).toBeLessThan(6000);
    });
  }
});

type ScriptRun = { exitAfterMs: number; code: number | null; stderr: string };

function runShortScript(env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', '@otelkit/node/register', join(RELIABILITY_FIXTURES, 'short-script.mjs')], {
      cwd: RELIABILITY_FIXTURES,
      env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_PROMETHEUS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const match = /EXIT_AFTER_MS (\S+)/.exec(stdout);
      if (!match) reject(new Error(`no exit line: ${stdout} ${stderr}`));
      else resolve({ exitAfterMs: Number(match[1]), code, stderr });
    });
  });
}

describe('exit hygiene', () => {
  it('a short script exits within 100 ms of its last work (metrics only: nothing to send)', async () => {
    const run = await runShortScript({ OTEL_TRACES_EXPORTER: 'none' });
    console.log(`short script, metrics only: exit ${run.exitAfterMs} ms after its last work`);
    expect(run.code).toBe(0);
    expect(run.exitAfterMs).toBeLessThan(100);
  });

  it('a short script that exports spans sends them when it runs dry, and still exits within 100 ms of its last work', async () => {
    collector = await startFakeCollector({ kind: 'ok' });
    const run = await runShortScript({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, SPANS: '10' });
    console.log(`short script, spans exported: exit ${run.exitAfterMs} ms after its last work, ${collector.spansAccepted} spans delivered`);
    expect(run.code).toBe(0);
    expect(collector.spansAccepted).toBe(10);
    expect(run.exitAfterMs).toBeLessThan(100);
  });

  it('a short script with its collector down exits once the exporter gives up (OTEL_EXPORTER_OTLP_TIMEOUT), with one diagnostic', async () => {
    const run = await runShortScript({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' });
    console.log(`short script, collector down: exit ${run.exitAfterMs} ms after its last work`);
    expect(run.code).toBe(0);
    expect(run.exitAfterMs).toBeLessThan(3000);
    expect(run.stderr.split('\n').filter((line) => line.includes('spans could not be exported'))).toHaveLength(1);
  });

  it('after shutdown() under traffic, spans and metrics pushed: no timer, socket or listener of otelkit is left', async () => {
    type Left = { resources: string[]; listeners: Record<string, number> };
    const leftAfterShutdown = async (preload: boolean): Promise<Left> => {
      const running = await startApp(
        'traffic-app.mjs',
        {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'prometheus,otlp',
          OTEL_METRIC_EXPORT_INTERVAL: '500',
          OTEL_EXPORTER_OTLP_ENDPOINT: collector!.url,
          LOAD_RPS: '100',
          OTEL_BSP_SCHEDULE_DELAY: '200',
        },
        { preload },
      );
      try {
        if (preload) {
          await eventually(() => (collector!.requests.some((request) => request.path === '/v1/metrics') && collector!.spansAccepted > 100 ? true : undefined), 20_000);
        } else {
          await eventually(async () => ((await (await fetch(`http://127.0.0.1:${running.port}/__stats`)).json()) as { handled: number }).handled > 100 || undefined, 20_000);
        }
        await fetch(`http://127.0.0.1:${running.port}/__shutdown`);
        const line = await eventually(() => /LEFT (.*)/.exec(running.output().stdout)?.[1], 20_000);
        return JSON.parse(line) as Left;
      } finally {
        await running.stop();
      }
    };
    collector = await startFakeCollector({ kind: 'ok' });
    const left = await leftAfterShutdown(true);
    // The same app, same traffic, never preloaded: what the app itself leaves (its stdio pipes, its listeners).
    const baseline = await leftAfterShutdown(false);
    console.log(`after shutdown: ${JSON.stringify(left)}; the app alone: ${JSON.stringify(baseline)}`);
    expect(left.listeners).toEqual(baseline.listeners);
    expect(left.resources).toEqual(baseline.resources);
  });
});
