// Requests per second of a service, bare and under the otelkit preload (Prometheus metrics, HTTP server
// instrumentation, spans created and sampled but not exported), and, for the minimal service, under
// the stock OpenTelemetry SDK set up by hand (tracer provider + instrumentation-http + Prometheus reader).
// Usage: node bench/http-throughput.mjs [rounds=3] [seconds=8] [connections=50] [target=hello|demo]
//   hello: a minimal node:http service (GET -> 200 "ok"), the worst case for relative overhead;
//   demo:  examples/demo-service's fast route `GET /` (express 5, built first; its own load off).
// Alternates the variants each round (autocannon in this process, the server in a child) and prints
// the median requests/s of each and their ratio to bare.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';

const [rounds, seconds, connections] = [3, 8, 50].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const target = process.argv[5] ?? 'hello';
const here = import.meta.dirname;
const hello = join(here, 'fixtures', 'hello-server.cjs');
const demo = join(here, '..', 'examples', 'demo-service', 'dist', 'main.js');
const preload = ['--import', '@otelkit/node/register'];
const variants =
  target === 'demo'
    ? { bare: [demo], otelkit: [...preload, demo] }
    : { bare: [hello], otelkit: [...preload, hello], 'stock-otel': ['--require', join(here, 'fixtures', 'stock-otel-preload.cjs'), hello] };
const env = { PATH: process.env.PATH, OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_TRACES_EXPORTER: 'none', DEMO_LOAD: '0', DEMO_SUMMARY_SECONDS: '0' };

async function measure(args) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, args, { env: { ...env, PORT: String(port) }, cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/LISTENING|listening on/.test(out)) resolve();
    });
  });
  const url = `http://127.0.0.1:${port}/`;
  await autocannon({ url, connections, duration: 2 }); // warm-up
  const result = await autocannon({ url, connections, duration: seconds });
  child.kill('SIGKILL');
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const names = Object.keys(variants);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const sample = await measure(variants[name]);
    samples[name].push(sample);
    console.log(`round ${round + 1} ${name.padEnd(10)} ${sample.rps.toFixed(0)} req/s  p99 ${sample.p99} ms  errors ${sample.errors}`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = median(samples.bare.map((s) => s.rps));
console.log(`\n${target}: ${rounds} rounds x ${seconds} s, ${connections} connections, node ${process.version}`);
for (const name of names) {
  const rps = median(samples[name].map((s) => s.rps));
  console.log(`${name.padEnd(10)} median ${rps.toFixed(0)} req/s  (${(rps / bare).toFixed(2)}x of bare, ${(1e6 / rps).toFixed(1)} µs/req at saturation)`);
}
