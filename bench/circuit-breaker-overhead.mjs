// Per-call overhead of @otelkit/circuit-breaker: bare vs bridged opossum and cockatiel breakers.
// Run from the repo root after `npx tsc -b packages/core packages/circuit-breaker`:
//   node --expose-gc bench/circuit-breaker-overhead.mjs [rounds=9] [callsPerRound=50000]
// Bridged cases run with a real sdk-metrics MeterProvider (pull reader, collected between rounds),
// so the duration histogram really records. Cases alternate inside each round; figures are medians.
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createOtelkitMetricProducer } from '@otelkit/core';
import { instrumentCockatiel, instrumentCustomBreaker, instrumentOpossum } from '@otelkit/circuit-breaker';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import CircuitBreaker from 'opossum';

const rounds = Number(process.argv[2] ?? 9);
const calls = Number(process.argv[3] ?? 50_000);

class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
// As under @otelkit/node: otelkit's producer on the reader, so bound histograms take the fast path.
const reader = new PullReader({ metricProducers: [createOtelkitMetricProducer()] });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

const action = async (x) => x;
const opossumOptions = { timeout: 10_000, resetTimeout: 30_000, volumeThreshold: 1_000_000 };
const bareOpossum = new CircuitBreaker(action, { ...opossumOptions, name: 'bare' });
const bridgedOpossum = new CircuitBreaker(action, { ...opossumOptions, name: 'bridged' });
instrumentOpossum(bridgedOpossum);
const countsOnlyOpossum = new CircuitBreaker(action, { ...opossumOptions, name: 'counts-only' });
instrumentOpossum(countsOnlyOpossum, { recordDuration: false });
const cockatielOptions = { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(1_000_000) };
const bareCockatiel = circuitBreaker(handleAll, cockatielOptions);
const bridgedCockatiel = circuitBreaker(handleAll, { ...cockatielOptions, breaker: new ConsecutiveBreaker(1_000_000) });
instrumentCockatiel(bridgedCockatiel, { name: 'bridged-cockatiel' });
const custom = instrumentCustomBreaker({ name: 'custom' });
const work = () => Promise.resolve(1);

const cases = {
  'opossum bare': async () => { for (let i = 0; i < calls; i++) await bareOpossum.fire(i); },
  'opossum bridged': async () => { for (let i = 0; i < calls; i++) await bridgedOpossum.fire(i); },
  'opossum bridged, no duration': async () => { for (let i = 0; i < calls; i++) await countsOnlyOpossum.fire(i); },
  'cockatiel bare': async () => { for (let i = 0; i < calls; i++) await bareCockatiel.execute(work); },
  'cockatiel bridged': async () => { for (let i = 0; i < calls; i++) await bridgedCockatiel.execute(work); },
  'custom recordCall(success, d)': async () => { for (let i = 0; i < calls; i++) custom.recordCall('success', 0.001); },
};

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const run of Object.values(cases)) await run(); // warm-up
for (let round = 0; round < rounds; round++) {
  const names = Object.keys(cases);
  const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
  for (const name of order) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    await cases[name]();
    samples[name].push(Number(process.hrtime.bigint() - start) / calls);
  }
  await reader.collect();
}

console.log(`node ${process.version}, ${rounds} rounds x ${calls} calls, median ns/call`);
for (const [name, values] of Object.entries(samples))
  console.log(`${name.padEnd(32)} ${median(values).toFixed(0).padStart(7)} ns   (rounds: ${values.map((v) => v.toFixed(0)).join(', ')})`);
const ratio = (a, b) => {
  const perRound = samples[a].map((v, i) => v / samples[b][i]);
  return `${median(perRound).toFixed(2)}x (+${(median(samples[a]) - median(samples[b])).toFixed(0)} ns/call)`;
};
console.log(`opossum bridged / bare:   ${ratio('opossum bridged', 'opossum bare')}`);
console.log(`opossum counts only / bare: ${ratio('opossum bridged, no duration', 'opossum bare')}`);
console.log(`cockatiel bridged / bare: ${ratio('cockatiel bridged', 'cockatiel bare')}`);
for (const breaker of [bareOpossum, bridgedOpossum, countsOnlyOpossum]) breaker.shutdown();
