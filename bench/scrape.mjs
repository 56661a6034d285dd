#!/usr/bin/env node
// Scrape benchmark (issue 10): the cost of serving /metrics with many series, otelkit beside
// prom-client and the stock OpenTelemetry Prometheus exporter, in the same run.
//
// Usage: node bench/scrape.mjs [--rounds 3] [--scrapes 5] [--markdown]
//
// Each case runs bench/fixtures/scrape-case.mjs in a fresh process pinned to core 0 (taskset), so
// heaps and JIT state never mix. Shapes: 10k counter + 1k histogram series, and 100k + 10k (1000
// series per metric, one label). Implementations:
// - prom-client 15 (registry.metrics());
// - the stock SDK: sdk-metrics + @opentelemetry/exporter-prometheus (collect, then its serializer,
//   as its request handler does);
// - otelkit, bound instruments (bindCounter/bindHistogram: core's store, sliced collection);
// - otelkit, API instruments (meter.createCounter on otelkit's pipeline: the SDK's storage, otelkit's
//   exposition).
// All serve text 0.0.4. Per case: median scrape time over --scrapes scrapes, the longest event-loop
// block seen during a scrape (a 1 ms timer's longest wait and monitorEventLoopDelay's max), heap per
// series (growth of heap + array buffers from creating the series, after GC), body size; 200
// concurrent scrapes (in round 1; for the peers at 10k series only: they collect once per scrape,
// minutes at 100k). A third shape fills 10k histogram series with 200 values each, as a real latency
// histogram is filled, with otelkit's native buckets on and off.
// Rounds rotate the order of implementations; figures are medians over rounds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, scrapes: { type: 'string', default: '5' }, markdown: { type: 'boolean', default: false } },
});
const root = join(import.meta.dirname, '..');
const rounds = Math.max(1, Number(options.rounds));
const IMPLS = ['prom-client', 'stock-sdk', 'otelkit-bound', 'otelkit-api'];
const SHAPES = [
  { counters: 10_000, histograms: 1_000, valuesPerSeries: 1, impls: IMPLS },
  { counters: 100_000, histograms: 10_000, valuesPerSeries: 1, impls: IMPLS },
  // Histograms filled as real latency histograms are (200 values from 1 ms to 2.5 s each: ~90 native
  // buckets per series at schema 3), with otelkit's native buckets on (the default) and off.
  { counters: 0, histograms: 10_000, valuesPerSeries: 200, impls: ['prom-client', 'otelkit-bound', 'otelkit-bound-classic'] },
];
const label = (shape) => `${shape.counters / 1000}k + ${shape.histograms / 1000}k${shape.valuesPerSeries > 1 ? ` (${shape.valuesPerSeries} values each)` : ''}`;

if (!existsSync(join(root, 'packages', 'node', 'dist', 'prometheus-reader.js'))) {
  console.error('scrape.mjs: run `npm run build` first');
  process.exit(2);
}
if (!existsSync(join(root, 'bench', 'peers', 'node_modules', 'prom-client'))) {
  const install = spawnSync('npm', ['ci', '--prefix', join(root, 'bench', 'peers'), '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (install.status !== 0) process.exit(2);
}
const pin = spawnSync('sh', ['-c', 'command -v taskset']).status === 0 ? ['taskset', '-c', '0'] : [];

function runCase(impl, shape, concurrent) {
  const classic = impl === 'otelkit-bound-classic';
  const args = ['--expose-gc', join(root, 'bench', 'fixtures', 'scrape-case.mjs'), classic ? 'otelkit-bound' : impl, String(shape.counters), String(shape.histograms), options.scrapes];
  const [command, ...rest] = pin.length ? [...pin, process.execPath, ...args] : [process.execPath, ...args];
  const result = spawnSync(command, rest, { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, CONCURRENT: String(concurrent), VALUES_PER_SERIES: String(shape.valuesPerSeries), NATIVE: classic ? 'false' : 'true' }, maxBuffer: 64 * 1024 * 1024 });
  const line = result.stdout.trim().split('\n').pop();
  if (result.status !== 0 || !line?.startsWith('{')) throw new Error(`${impl} ${JSON.stringify(shape)} failed:\n${result.stdout}${result.stderr}`);
  return JSON.parse(line);
}

const results = new Map(); // `${impl} ${counters}` -> [results]
for (let round = 0; round < rounds; round++) {
  for (const shape of SHAPES) {
    const order = shape.impls.map((_, i) => shape.impls[(i + round) % shape.impls.length]);
    for (const impl of order) {
      const concurrent = round === 0 && shape.valuesPerSeries === 1 && (impl.startsWith('otelkit') || shape.counters <= 10_000) ? 200 : 0;
      const result = runCase(impl, shape, concurrent);
      const key = `${impl} ${label(shape)}`;
      results.set(key, [...(results.get(key) ?? []), result]);
      console.error(`round ${round + 1} ${impl.padEnd(22)} ${label(shape)}: scrape ${result.scrapeMs.toFixed(1)} ms, block ${result.longestBlockMs.toFixed(1)} ms, ${result.heapPerSeries.toFixed(0)} B/series`);
    }
  }
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const fixed = (value, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));
const rows = [];
for (const shape of SHAPES) {
  const prom = results.get(`prom-client ${label(shape)}`);
  const promScrape = median(prom.map((r) => r.scrapeMs));
  const promHeap = median(prom.map((r) => r.heapPerSeries));
  for (const impl of shape.impls) {
    const list = results.get(`${impl} ${label(shape)}`);
    const scrape = median(list.map((r) => r.scrapeMs));
    const heap = median(list.map((r) => r.heapPerSeries));
    const concurrent = list.find((r) => r.concurrent)?.concurrent;
    rows.push([
      label(shape),
      impl === 'otelkit-bound-classic' ? 'otelkit-bound, native buckets off' : impl,
      `${fixed(scrape)} ms (${fixed(scrape / promScrape, 2)}×)`,
      `${fixed(median(list.map((r) => r.longestBlockMs)))} ms`,
      `${fixed(heap, 0)} B (${fixed(heap / promHeap, 2)}×)`,
      `${fixed(median(list.map((r) => r.bodyBytes)) / 1e6, 2)} MB`,
      concurrent ? `${concurrent.collections} collection(s), ${fixed(concurrent.ms, 0)} ms, ${concurrent.identical ? 'identical' : 'different'} bodies` : 'not run',
    ]);
  }
}
const header = ['series', 'implementation', 'scrape (vs prom-client)', 'longest event-loop block', 'heap per series (vs prom-client)', 'body', '200 concurrent scrapes'];
if (options.markdown) {
  console.log(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} else {
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd([11, 15, 26, 25, 32, 9, 0][i])).join(' '));
}
console.log(`\n${rounds} rounds (order rotated), medians; ${options.scrapes} scrapes per case; node ${process.version}; server pinned to core 0${pin.length ? '' : ' (taskset missing: not pinned)'}.`);
