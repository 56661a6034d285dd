import { diag, DiagLogLevel, type Attributes } from '@opentelemetry/api';
import { afterAll } from 'vitest';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { createTestMeterProvider, type TestReader } from '../../core/test/metric-reader.js';

export { createTestMeterProvider, type TestReader };

/** Every data point of `name` whose attributes include `match`. */
export function pointsOf(metrics: MetricData[], name: string, match: Attributes = {}): DataPoint<unknown>[] {
  const metric = metrics.find((m) => m.descriptor.name === name);
  if (!metric) return [];
  return (metric.dataPoints as DataPoint<unknown>[]).filter((point) =>
    Object.entries(match).every(([key, value]) => point.attributes[key] === value),
  );
}

/** The single numeric value of `name` with attributes including `match` (undefined when absent). */
export function valueOf(metrics: MetricData[], name: string, match: Attributes = {}): number | undefined {
  const points = pointsOf(metrics, name, match);
  if (points.length > 1) throw new Error(`${name}: ${points.length} points match ${JSON.stringify(match)}`);
  return points[0]?.value as number | undefined;
}

/** The histogram value of `name` with attributes including `match`. */
export function histogramOf(metrics: MetricData[], name: string, match: Attributes = {}): Histogram | undefined {
  const points = pointsOf(metrics, name, match);
  if (points.length > 1) throw new Error(`${name}: ${points.length} points match`);
  return points[0]?.value as Histogram | undefined;
}

/** The metric descriptor of `name`. */
export function descriptorOf(metrics: MetricData[], name: string): MetricData['descriptor'] | undefined {
  return metrics.find((m) => m.descriptor.name === name)?.descriptor;
}

/** Polls `condition` every 10 ms until it holds (or fails after `timeoutMs`). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Captures otelkit diagnostics written through `diag`. */
export function captureDiagnostics(): string[] {
  const lines: string[] = [];
  const push = (message: string) => lines.push(message);
  diag.setLogger({ error: push, warn: push, info: push, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return lines;
}

/** Listener counts of every event an emitter has, plus the named ones, for before/after comparisons. */
export function listenerCounts(emitter: NodeJS.EventEmitter, events: readonly string[] = []): Record<string, number> {
  const names = new Set<string | symbol>([...emitter.eventNames(), ...events]);
  const counts: Record<string, number> = {};
  for (const name of names) counts[String(name)] = emitter.listenerCount(name);
  return counts;
}

export const POOL_NAME = 'db.client.connection.pool.name';
export const STATE = 'db.client.connection.state';

/** The local PostgreSQL every pool test uses (trust auth, database `test`). */
export const PG_CONNECTION = Object.freeze({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
/** The local MariaDB every pool test uses (root, empty password, database `test`). */
export const MYSQL_CONNECTION = Object.freeze({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' });

/**
 * The telemetry of one pool test file: a real global MeterProvider with a TestReader (shut down after
 * the file), and the diagnostics the bridges write.
 */
export function setUpPoolTelemetry(): { reader: TestReader; diagnostics: string[] } {
  const { reader, provider } = createTestMeterProvider({ global: true });
  const diagnostics = captureDiagnostics();
  afterAll(async () => {
    await provider.shutdown();
  });
  return { reader, diagnostics };
}
