// What counting spans for otel.sdk.span.started/live costs per span, side by side: no accounting, the
// accounting through otelkit's SelfMetricsMeterProvider (plain numbers, read at collection), and the
// same SDK instruments on a MeterProvider with a reader (attributes hashed on every add).
// Usage: taskset -c 0 node bench/span-accounting.mjs [spans per round = 300000] [rounds = 7]
// Build first (npm run build): it loads @otelkit/node's compiled self-metrics module.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { SelfMetricsMeterProvider } from '../packages/node/dist/self-metrics.js';

class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const [spans, rounds] = [300_000, 7].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const withReader = () => new MeterProvider({ readers: [new PullReader()] });
const variants = {
  'no accounting': new BasicTracerProvider(),
  'otelkit self-metrics': new BasicTracerProvider({ meterProvider: new SelfMetricsMeterProvider(withReader()) }),
  'SDK instruments': new BasicTracerProvider({ meterProvider: withReader() }),
};
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order each round.
  const names = Object.keys(variants);
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length];
    const tracer = variants[name].getTracer('bench');
    const start = process.hrtime.bigint();
    for (let n = 0; n < spans; n++) tracer.startSpan('s').end();
    results[name].push(Number(process.hrtime.bigint() - start) / spans);
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const base = median([...results['no accounting']]);
console.log(`ns per span (start + end), median of ${rounds} rounds of ${spans}:`);
for (const [name, values] of Object.entries(results)) {
  const m = median(values);
  console.log(`  ${name.padEnd(22)} ${m.toFixed(0).padStart(6)} ns   accounting +${(m - base).toFixed(0)} ns`);
}
