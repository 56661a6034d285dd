import { spawnListeningApp, type ListeningApp } from '../../test-support/app-process.js';
import { parseSamples, total, type Sample } from '../../test-support/prometheus-text.js';

export { total };
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test-support/demo-and-prometheus.js';

export { freePort, type Sample };
export const RELIABILITY_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export type App = ListeningApp & { metricsPort: number };

/** Starts a fixture under `--import @otelkit/node/register` (and `--expose-gc`), waits for `LISTENING <port>`. */
export async function startApp(fixture: string, env: Record<string, string>, options: { preload?: boolean } = {}): Promise<App> {
  const metricsPort = env.OTEL_EXPORTER_PROMETHEUS_PORT ? Number(env.OTEL_EXPORTER_PROMETHEUS_PORT) : await freePort();
  const preload = options.preload === false ? [] : ['--import', '@otelkit/node/register'];
  const app = await spawnListeningApp(['--expose-gc', ...preload, join(RELIABILITY_FIXTURES, fixture)], RELIABILITY_FIXTURES, {
    OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    ...env,
  });
  return { ...app, metricsPort };
}

export type AppStats = { unhandledRejections: number; uncaughtExceptions: number; handled: number; heapUsed: number; rss: number; arrayBuffers: number; external: number };

export async function appStats(app: App): Promise<AppStats> {
  return (await (await fetch(`http://127.0.0.1:${app.port}/__stats`)).json()) as AppStats;
}

/** The samples of the app's /metrics (text 0.0.4). */
export async function scrape(app: { metricsPort: number }): Promise<Sample[]> {
  return parseSamples(await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text());
}

/**
 * The span accounting the self-metrics give, for spans the SDK sampled:
 * started = live + queued + in the exporter + processed (exported, dropped or failed).
 */
export function spanAccounting(samples: Sample[]) {
  const sampled = { otel_span_sampling_result: 'RECORD_AND_SAMPLE' };
  const processed = (errorType: string) => total(samples, 'otel_sdk_processor_span_processed_total', { error_type: errorType });
  const allProcessed = total(samples, 'otel_sdk_processor_span_processed_total');
  return {
    started: total(samples, 'otel_sdk_span_started_total', sampled),
    live: total(samples, 'otel_sdk_span_live', sampled),
    queued: total(samples, 'otel_sdk_processor_span_queue_size'),
    capacity: total(samples, 'otel_sdk_processor_span_queue_capacity'),
    inflight: total(samples, 'otel_sdk_exporter_span_inflight'),
    exported: processed(''),
    dropped: processed('queue_full'),
    failed: allProcessed - processed('') - processed('queue_full'),
    exporterExported: total(samples, 'otel_sdk_exporter_span_exported_total', { error_type: '' }),
    exporterFailed: total(samples, 'otel_sdk_exporter_span_exported_total') - total(samples, 'otel_sdk_exporter_span_exported_total', { error_type: '' }),
  };
}

export { eventually } from '../../test-support/eventually.js';
