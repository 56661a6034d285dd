import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test-support/demo-and-prometheus.js';

export { freePort };
export const RELIABILITY_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export type App = {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  output: () => { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stop: () => Promise<void>;
};

/** Starts a fixture under `--import @otelkit/node/register` (and `--expose-gc`), waits for `LISTENING <port>`. */
export async function startApp(fixture: string, env: Record<string, string>, options: { preload?: boolean } = {}): Promise<App> {
  const metricsPort = env.OTEL_EXPORTER_PROMETHEUS_PORT ? Number(env.OTEL_EXPORTER_PROMETHEUS_PORT) : await freePort();
  const preload = options.preload === false ? [] : ['--import', '@otelkit/node/register'];
  const child = spawn(process.execPath, ['--expose-gc', ...preload, join(RELIABILITY_FIXTURES, fixture)], {
    cwd: RELIABILITY_FIXTURES,
    env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start: ${stdout} ${stderr}`)), 20_000);
    const check = (): void => {
      const match = /LISTENING (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`app exited: ${stdout} ${stderr}`)));
  });
  return {
    child,
    port,
    metricsPort,
    output: () => ({ stdout, stderr }),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export type AppStats = { unhandledRejections: number; uncaughtExceptions: number; handled: number; heapUsed: number; rss: number; arrayBuffers: number; external: number };

export async function appStats(app: App): Promise<AppStats> {
  return (await (await fetch(`http://127.0.0.1:${app.port}/__stats`)).json()) as AppStats;
}

export type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of the app's /metrics (text 0.0.4). */
export async function scrape(app: App): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `where` (a label set to '' must be absent). */
export function total(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).every(([key, value]) => (sample.labels[key] ?? '') === value)) sum += sample.value;
  }
  return sum;
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

/** Polls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
