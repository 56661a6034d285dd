// Start-up time added by `--import @otelkit/node/register`.
// Usage: node bench/startup.mjs [runs=20]
// Runs a script that exits at once, alternately bare and with the preload, and prints the median
// wall time of each and their difference and ratio.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 20);
const script = join(import.meta.dirname, 'fixtures', 'exit-at-once.mjs');
const variants = {
  bare: [script],
  otelkit: ['--import', '@otelkit/node/register', script],
};
const env = { PATH: process.env.PATH, OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_TRACES_EXPORTER: 'none' };
const times = { bare: [], otelkit: [] };

const once = (args) => {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, cwd: import.meta.dirname, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`exit ${result.status}: ${args.join(' ')}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
};

for (const args of Object.values(variants)) once(args); // warm the file cache
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(variants)) times[name].push(once(args));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = median(times.bare);
const otelkit = median(times.otelkit);
console.log(`runs: ${runs} each, alternating; node ${process.version}`);
console.log(`bare      median ${bare.toFixed(1)} ms`);
console.log(`otelkit   median ${otelkit.toFixed(1)} ms`);
console.log(`added     ${(otelkit - bare).toFixed(1)} ms (${(otelkit / bare).toFixed(2)}x)`);
