// Requests per second of a minimal node:http service, bare and under the otelkit preload
// (Prometheus metrics, HTTP server instrumentation, spans created and sampled but not exported).
// Usage: node bench/http-throughput.mjs [rounds=3] [seconds=8] [connections=50]
// Alternates the two variants each round (autocannon in this process, the server in a child) and
// prints the median requests/s of each and their ratio.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';

const [rounds, seconds, connections] = [3, 8, 50].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const server = join(import.meta.dirname, 'fixtures', 'hello-server.mjs');
const variants = { bare: [server], otelkit: ['--import', '@otelkit/node/register', server] };
const env = { PATH: process.env.PATH, OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_TRACES_EXPORTER: 'none' };

async function measure(args) {
  const child = spawn(process.execPath, args, { env, cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /LISTENING (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  const url = `http://127.0.0.1:${port}/users/1`;
  await autocannon({ url, connections, duration: 2 }); // warm-up
  const result = await autocannon({ url, connections, duration: seconds });
  child.kill('SIGKILL');
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const samples = { bare: [], otelkit: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['bare', 'otelkit'] : ['otelkit', 'bare'];
  for (const name of order) {
    const sample = await measure(variants[name]);
    samples[name].push(sample);
    console.log(`round ${round + 1} ${name.padEnd(8)} ${sample.rps.toFixed(0)} req/s  p99 ${sample.p99} ms  errors ${sample.errors}`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = median(samples.bare.map((s) => s.rps));
const otelkit = median(samples.otelkit.map((s) => s.rps));
console.log(`\n${rounds} rounds x ${seconds} s, ${connections} connections, node ${process.version}`);
console.log(`bare     median ${bare.toFixed(0)} req/s`);
console.log(`otelkit  median ${otelkit.toFixed(0)} req/s  (${(otelkit / bare).toFixed(2)}x of bare)`);
