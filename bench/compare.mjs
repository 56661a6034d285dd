// Side-by-side benchmark: otelkit against its peers, one command, one run.
//
// Usage: node bench/compare.mjs [--rounds 3] [--seconds 8] [--connections 50] [--only http,startup,micro]
//                               [--variants bare,otelkit,...] [--startup-runs 20] [--micro-rounds 9] [--markdown]
//
// 1. http: the same minimal node:http service (bench/fixtures/hello-server.cjs, GET -> 200 "ok") bare,
//    with hand-written prom-client metrics, the stock OpenTelemetry SDK set up by hand, the
//    auto-instrumentations-node register, and the otelkit preload three ways (metrics only, default,
//    every span exported over OTLP to a local sink). The server is pinned to core 0, wrk (and the sink)
//    to core 1. Per variant and round: warm-up 2 s, then `wrk --latency` for --seconds; server CPU
//    (utime+stime from /proc/<pid>/stat around the measured run) per request, req/s, p50, p99, RSS after
//    load. The variant order rotates each round; the table shows medians and ratios to bare.
// 2. startup: a script that exits at once, bare and under each preload; median wall time (spawnSync,
//    hrtime) of alternating runs, and the time each preload adds.
// 3. micro: ns per counter add / histogram record (sdk-metrics, prom-client, otelkit bound instruments)
//    in a child process with a real MeterProvider; plus the breaker and pool benchmarks' added cost
//    (bench/circuit-breaker-overhead.mjs, bench/pool-acquire.mjs, run as children and reprinted).
// Then a targets table (MET / NOT MET); --markdown also prints the tables as GitHub markdown.
//
// Needs wrk and taskset (apt-get install -y wrk util-linux), the packages built (npm run build), and
// the bench-only peers (prom-client, auto-instrumentations-node) in bench/peers, installed on first run
// with `npm ci --prefix bench/peers`. They live there, not in bench/ itself: a bench/node_modules would
// shadow the root OpenTelemetry packages for every script in bench/. Loopback (127.0.0.1) only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', default: 'http,startup,micro' },
    variants: { type: 'string' }, // HTTP variants to run (bare is always included), e.g. otelkit,otelkit-otlp
    'startup-runs': { type: 'string', default: '20' },
    'micro-rounds': { type: 'string', default: '9' },
    markdown: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(options.rounds));
const seconds = Math.max(1, Number(options.seconds));
const connections = Math.max(1, Number(options.connections));
const startupRuns = Math.max(1, Number(options['startup-runs']));
const microRounds = Math.max(1, Number(options['micro-rounds']));
const sections = new Set(options.only.split(',').map((s) => s.trim()));
const WARMUP_SECONDS = 2;
const CORE0_NOISE_PCT = 10; // flag a round when this much of core 0 went elsewhere during the measured run
const SATURATED_PCT = 90; // flag a round when the server used less of core 0 (load generator starved?)

const bench = import.meta.dirname;
const root = join(bench, '..');
const fixtures = join(bench, 'fixtures');
const peers = join(bench, 'peers');
const fixture = (name) => join(fixtures, name);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// ---------------------------------------------------------------------------------------------
// Children: every process started here is tracked and killed on exit, error or Ctrl-C.

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const child of children) child.kill('SIGKILL');
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children`);
    killAll();
    process.exit(130);
  });
}

/** Runs a command to completion; resolves { code, stdout, stderr }. */
function run(command, args, spawnOptions = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-lived child and waits (bounded) for it to print `LISTENING <port>`. */
function startListening(command, args, spawnOptions, timeoutMs = 20_000) {
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions }));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no LISTENING line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: ${error.message}\n${output}`));
    };
    child.stderr.on('data', (chunk) => (output += chunk));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid, port: Number(match[1]), output: () => output });
      }
    });
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`exited with ${code} before listening`)));
  });
}

function stop(child, signal = 'SIGKILL', timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ratio = (value, base) => (Number.isFinite(value) && base ? `${(value / base).toFixed(2)}×` : 'n/a');
const signed = (value, digits = 1) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}` : 'n/a');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Prints a table of rows (arrays of cells); the first row is the header. */
function printTable(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]))).join('  '));
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}

function markdownTable(rows) {
  const line = (row) => `| ${row.join(' | ')} |`;
  return [line(rows[0]), line(rows[0].map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.slice(1).map(line)].join('\n');
}

const markdown = []; // sections collected for --markdown
const failures = []; // what could not be measured; the exit code is 1 if any

// ---------------------------------------------------------------------------------------------
// Preflight: tools, build, bench-only peers.

function preflight() {
  const missing = ['wrk', 'taskset'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length && sections.has('http')) {
    console.error(`compare.mjs: missing ${missing.join(' and ')} (needed for the HTTP part). Install: apt-get install -y wrk util-linux`);
    process.exit(2);
  }
  if (!existsSync(join(root, 'packages', 'node', 'dist', 'register.js')) || !existsSync(join(root, 'packages', 'core', 'dist', 'index.js'))) {
    console.error('compare.mjs: packages/*/dist is missing; run `npm run build` in the repo root first');
    process.exit(2);
  }
  if (!existsSync(join(peers, 'node_modules', 'prom-client')) || !existsSync(join(peers, 'node_modules', '@opentelemetry', 'auto-instrumentations-node'))) {
    console.log('bench/peers/node_modules is missing: npm ci --prefix bench/peers ...');
    const install = spawnSync('npm', ['ci', '--prefix', peers, '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (install.status !== 0) {
      console.error('compare.mjs: npm ci --prefix bench/peers failed');
      process.exit(2);
    }
  }
}

const requirePeer = createRequire(join(peers, 'package.json'));
const version = (base, name) => JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')).version;

function versions() {
  return {
    node: process.version,
    'prom-client': version(peers, 'prom-client'),
    'auto-instrumentations-node': version(peers, '@opentelemetry/auto-instrumentations-node'),
    'sdk-node (auto-instr)': version(peers, '@opentelemetry/sdk-node'),
    'sdk-trace-base (repo)': version(root, '@opentelemetry/sdk-trace-base'),
    'sdk-metrics (repo)': version(root, '@opentelemetry/sdk-metrics'),
    'instrumentation-http (repo)': version(root, '@opentelemetry/instrumentation-http'),
    '@otelkit/node': version(root, '@otelkit/node'),
  };
}

// ---------------------------------------------------------------------------------------------
// Variants. Every variant runs with a clean environment (PATH only, plus what is listed here).

const autoRegister = () => requirePeer.resolve('@opentelemetry/auto-instrumentations-node/register');
const otelkitPreload = ['--import', '@otelkit/node/register']; // resolved from cwd = repo root
const OTELKIT_ENV = { OTEL_EXPORTER_PROMETHEUS_PORT: '0' };

/**
 * auto-instrumentations-node's register reads the standard env through NodeSDK. Set here:
 * - OTEL_TRACES_EXPORTER=none: traces off, as in the issue's table (NodeSDK then installs no tracer
 *   provider at all, so spans are non-recording);
 * - OTEL_METRICS_EXPORTER=prometheus: the pull reader, like the others (its default is OTLP push);
 * - OTEL_EXPORTER_PROMETHEUS_HOST/PORT: its Prometheus server on loopback and a free port (its
 *   exporter treats port 0 as unset and would take 9464);
 * - OTEL_LOGS_EXPORTER=none: nothing pushes logs to a collector that is not there;
 * - OTEL_NODE_RESOURCE_DETECTORS=env,host,os,process: the default `all` includes the cloud detectors,
 *   which probe metadata endpoints off the machine (loopback only here).
 */
async function autoInstrEnv() {
  return {
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
  };
}

function httpVariants(sinkPort) {
  const hello = fixture('hello-server.cjs');
  return [
    { name: 'bare', args: [hello] },
    { name: 'prom-client', args: [fixture('prom-client-server.cjs')], check: checkPromClient },
    { name: 'stock-sdk', args: ['--require', fixture('stock-otel-preload.cjs'), hello] },
    { name: 'auto-instr', args: () => ['--require', autoRegister(), hello], env: autoInstrEnv, check: checkAutoInstr },
    { name: 'otelkit-metrics', args: [...otelkitPreload, hello], env: { ...OTELKIT_ENV, OTEL_TRACES_SAMPLER: 'always_off' }, check: checkTraceResponse },
    { name: 'otelkit', args: [...otelkitPreload, hello], env: OTELKIT_ENV, check: checkTraceResponse },
    {
      name: 'otelkit-otlp',
      args: [...otelkitPreload, hello],
      env: { ...OTELKIT_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}` },
      check: checkTraceResponse,
      usesSink: true,
    },
    {
      // The same without the SDK's own accounting (otel.sdk.*), to show what that costs.
      name: 'otelkit-otlp-noself',
      args: [...otelkitPreload, hello],
      env: { ...OTELKIT_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTELKIT_SDK_METRICS: 'false' },
      check: checkTraceResponse,
      usesSink: true,
    },
  ];
}

// Instrumentation checks (after the measured run, outside the CPU window): one short note each.
async function checkPromClient({ port }) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const count = /http_requests_total\{[^}]*route="\/"[^}]*\} (\d+)/.exec(text)?.[1];
  return count ? `prom-client /metrics: http_requests_total ${count}` : 'prom-client /metrics: NO http_requests_total!';
}

async function checkAutoInstr({ env }) {
  const text = await (await fetch(`http://127.0.0.1:${env.OTEL_EXPORTER_PROMETHEUS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => /^http_server_(request_)?duration\w*_count/.test(l));
  return line ? `auto-instr /metrics: ${line}` : 'auto-instr /metrics: NO http server duration metric!';
}

async function checkTraceResponse({ port }) {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  await response.text();
  return `traceresponse: ${response.headers.get('traceresponse') ?? 'none'}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP measurement.

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Busy and steal ticks of one CPU from /proc/stat (user nice system idle iowait irq softirq steal ...). */
function cpuTicks(cpu) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function processName(pid) {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

const LATENCY_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const latencyMs = (text) => {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  return match ? Number(match[1]) * LATENCY_UNITS[match[2]] : NaN;
};

function parseWrk(output) {
  const number = (regex) => Number(regex.exec(output)?.[1] ?? NaN);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: number(/(\d+) requests in/),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50: latencyMs(/^\s+50%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    p99: latencyMs(/^\s+99%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

async function wrk(port, durationSeconds) {
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${durationSeconds}s`, '--latency', `http://127.0.0.1:${port}/`];
  const { code, stdout, stderr } = await run('taskset', args);
  const result = parseWrk(stdout);
  if (code !== 0 || !Number.isFinite(result.requests)) throw new Error(`wrk failed (${code}): ${stdout}${stderr}`);
  return result;
}

/** GET / until it answers 200 (bounded): the server and its instrumentation are up. */
async function waitReady(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      await response.text();
      if (response.status === 200) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`GET / on port ${port} never answered 200`);
    await sleep(50);
  }
}

async function sinkStats(sink) {
  return (await fetch(`http://127.0.0.1:${sink.port}/stats`)).json();
}

async function measureVariant(variant, sink) {
  const env = { PATH: process.env.PATH, PORT: '0', ...(typeof variant.env === 'function' ? await variant.env() : variant.env) };
  const args = typeof variant.args === 'function' ? variant.args() : variant.args;
  // taskset execs node, so the child's pid is the node server's own (checked below).
  const server = await startListening('taskset', ['-c', '0', process.execPath, ...args], { cwd: root, env });
  try {
    if (processName(server.pid) !== 'node') throw new Error(`pid ${server.pid} is ${processName(server.pid)}, not node`);
    await waitReady(server.port);
    const sinkBefore = variant.usesSink ? await sinkStats(sink) : undefined;
    const warm = await wrk(server.port, WARMUP_SECONDS);
    const [cpuBefore, core0Before] = [cpuSeconds(server.pid), cpuTicks(0)];
    const load = await wrk(server.port, seconds);
    const [cpuAfter, core0After] = [cpuSeconds(server.pid), cpuTicks(0)];
    const core0Total = core0After.total - core0Before.total;
    const sample = {
      ...load,
      cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / load.requests,
      cpuSeconds: cpuAfter - cpuBefore,
      rssMb: rssMb(server.pid),
      errors: load.non2xx + load.socketErrors + warm.non2xx + warm.socketErrors,
      // Core 0 time not spent in the server (other processes, unattributed interrupts) and stolen by the hypervisor.
      core0OtherPct: (100 * (core0After.busy - core0Before.busy - (cpuAfter - cpuBefore) * CLK_TCK)) / core0Total,
      core0StealPct: (100 * (core0After.steal - core0Before.steal)) / core0Total,
      serverBusyPct: (100 * (cpuAfter - cpuBefore) * CLK_TCK) / core0Total, // < 100: the server was not saturated
    };
    sample.note = variant.check ? await variant.check({ port: server.port, env }).catch((error) => `check failed: ${error.message}`) : undefined;
    if (variant.usesSink) {
      await stop(server.child, 'SIGTERM'); // otelkit flushes queued spans on SIGTERM
      const after = await sinkStats(sink);
      sample.sink = {
        requests: after.traceRequests - sinkBefore.traceRequests,
        bytes: after.traceBytes - sinkBefore.traceBytes,
        spans: after.spans - sinkBefore.spans,
        served: warm.requests + load.requests + 2, // + the readiness probe and the check
      };
    }
    return sample;
  } finally {
    await stop(server.child);
  }
}

/** A round is clean when the server had core 0 to itself and was saturated. */
const isClean = (sample) => sample.core0OtherPct <= CORE0_NOISE_PCT && sample.core0StealPct <= CORE0_NOISE_PCT && sample.serverBusyPct >= SATURATED_PCT;

function describeSample(name, round, sample) {
  let line =
    `round ${round + 1}  ${name.padEnd(16)} ${fixed(sample.rps, 0).padStart(7)} req/s  cpu ${fixed(sample.cpuUsPerRequest, 1).padStart(6)} µs/req` +
    `  p50 ${fixed(sample.p50, 2)} ms  p99 ${fixed(sample.p99, 2)} ms  rss ${fixed(sample.rssMb, 1)} MB`;
  if (sample.errors) line += `  !! ${sample.errors} errors/non-2xx`;
  if (sample.core0OtherPct > CORE0_NOISE_PCT || sample.core0StealPct > CORE0_NOISE_PCT)
    line += `  !! core 0 not the server's alone: ${fixed(sample.core0OtherPct, 0)} % other, ${fixed(sample.core0StealPct, 0)} % stolen`;
  if (sample.serverBusyPct < SATURATED_PCT) line += `  !! server busy only ${fixed(sample.serverBusyPct, 0)} % of core 0 (load-limited: CPU/request may read high)`;
  if (sample.sink) {
    const { requests, bytes, spans, served } = sample.sink;
    line += `\n         sink: ${requests} span export requests, ${fixed(bytes / 1024, 0)} KiB, ${spans} spans for ${served} requests served`;
    if (requests === 0 || spans === 0) line += '\n         !!!!!! NO SPANS REACHED THE OTLP SINK: otelkit-otlp did not export anything !!!!!!';
    else if (spans < served * 0.95) line += `\n         !! only ${fixed((100 * spans) / served, 1)} % of the requests' spans reached the sink (dropped?)`;
  }
  if (sample.note && round === 0) line += `\n         ${sample.note}`;
  return line;
}

async function runHttp() {
  console.log(`\n=== HTTP: ${rounds} rounds × ${seconds} s, wrk -t1 -c${connections}, server on core 0, wrk + sink on core 1 ===`);
  const sink = await startListening('taskset', ['-c', '1', process.execPath, fixture('otlp-sink.cjs')], { cwd: root, env: { PATH: process.env.PATH, PORT: '0' } });
  try {
    const wanted = options.variants?.split(',').map((name) => name.trim());
    const variants = httpVariants(sink.port).filter((v) => !wanted || v.name === 'bare' || wanted.includes(v.name));
    const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const variant of order) {
        try {
          const sample = await measureVariant(variant, sink);
          samples[variant.name].push(sample);
          console.log(describeSample(variant.name, round, sample));
        } catch (error) {
          failures.push(`http ${variant.name} round ${round + 1}`);
          console.log(`round ${round + 1}  ${variant.name.padEnd(16)} !! FAILED: ${error.message}`);
        }
      }
    }
    return summarizeHttp(samples);
  } finally {
    await stop(sink.child);
  }
}

function summarizeHttp(samples) {
  const medians = Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      Object.fromEntries(['cpuUsPerRequest', 'rps', 'p50', 'p99', 'rssMb', 'errors'].map((key) => [key, median(list.map((s) => s[key]))])),
    ]),
  );
  const bare = medians.bare;
  const best = (name) => Math.min(...samples[name].map((s) => s.cpuUsPerRequest));
  const rows = [['variant', 'CPU µs/req', '× bare', 'best round', '× bare', 'req/s', '× bare', 'p50 ms', 'p99 ms', 'RSS MB', 'Δ RSS MB', 'clean rounds']];
  for (const [name, m] of Object.entries(medians)) {
    rows.push([
      name,
      fixed(m.cpuUsPerRequest, 1),
      ratio(m.cpuUsPerRequest, bare.cpuUsPerRequest),
      fixed(best(name), 1),
      ratio(best(name), best('bare')),
      fixed(m.rps, 0),
      ratio(m.rps, bare.rps),
      fixed(m.p50, 2),
      fixed(m.p99, 2),
      fixed(m.rssMb, 1),
      name === 'bare' ? '' : signed(m.rssMb - bare.rssMb),
      `${samples[name].filter(isClean).length}/${samples[name].length}`,
    ]);
  }
  console.log(`\nHTTP medians of ${rounds} round(s) (server CPU = utime+stime of the server process during the measured run / requests;`);
  console.log(`best round = lowest CPU/request; clean = core 0 the server's alone and saturated, see the !! flags above):`);
  printTable(rows);
  markdown.push(`### HTTP: hello service, ${rounds} rounds × ${seconds} s, ${connections} connections (medians)\n\n${markdownTable(rows)}`);
  const errors = Object.entries(medians).filter(([, m]) => m.errors > 0);
  if (errors.length) console.log(`!! errors or non-2xx responses in: ${errors.map(([name]) => name).join(', ')}`);
  return medians;
}

// ---------------------------------------------------------------------------------------------
// Start-up.

function startupVariants() {
  const script = fixture('exit-at-once.mjs');
  return {
    bare: { args: [script] },
    'prom-client': { args: ['--require', fixture('prom-client-preload.cjs'), script] },
    'stock-sdk': { args: ['--require', fixture('stock-otel-preload.cjs'), script] },
    'auto-instr': { args: ['--require', autoRegister(), script], env: autoInstrEnv },
    otelkit: { args: [...otelkitPreload, script], env: OTELKIT_ENV },
  };
}

async function timeStartup(args, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`start-up run failed (${result.status ?? result.signal}): ${args.join(' ')}\n${result.stderr}`);
  return ms;
}

async function runStartup() {
  console.log(`\n=== Start-up: ${startupRuns} alternating runs each of a script that exits at once ===`);
  const variants = startupVariants();
  const envs = {};
  for (const [name, variant] of Object.entries(variants)) envs[name] = typeof variant.env === 'function' ? await variant.env() : variant.env;
  const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (const [name, variant] of Object.entries(variants)) await timeStartup(variant.args, envs[name]); // warm the file cache
  for (let i = 0; i < startupRuns; i++) {
    for (const [name, variant] of Object.entries(variants)) times[name].push(await timeStartup(variant.args, envs[name]));
  }
  const medians = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
  const rows = [['preload', 'median ms', 'added ms']];
  for (const [name, ms] of Object.entries(medians)) rows.push([name, fixed(ms, 1), name === 'bare' ? '' : signed(ms - medians.bare)]);
  printTable(rows);
  markdown.push(`### Start-up: a script that exits at once, median of ${startupRuns} alternating runs\n\n${markdownTable(rows)}`);
  return medians;
}

// ---------------------------------------------------------------------------------------------
// Micro.

async function runMicroMetrics() {
  console.log(`\n=== Micro: ns/op with fixed attributes, ${microRounds} rounds (child process, real MeterProvider + reader) ===`);
  const { code, stdout, stderr } = await run(process.execPath, ['--expose-gc', fixture('micro-metrics.mjs'), String(microRounds)], { cwd: root, env: { PATH: process.env.PATH } });
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line?.startsWith('{')) throw new Error(`micro-metrics.mjs failed (${code}):\n${stdout}${stderr}`);
  const result = JSON.parse(line);
  const rows = [['operation', 'ns/op']];
  for (const [name, ns] of Object.entries(result.cases)) rows.push([name, fixed(ns, 1)]);
  printTable(rows);
  for (const note of result.notes) console.log(`  ${note}`);
  if (!('otelkit bound counter.add(1)' in result.cases)) console.log('otelkit bound: not available yet');
  markdown.push(`### Micro: metric record, ns/op (median of ${microRounds} rounds)\n\n${markdownTable(rows)}`);
  return result.cases;
}

async function runBreaker() {
  console.log('\n--- node --expose-gc bench/circuit-breaker-overhead.mjs ---');
  const { code, stdout, stderr } = await run(process.execPath, ['--expose-gc', join(bench, 'circuit-breaker-overhead.mjs')], { cwd: root });
  process.stdout.write(stdout);
  if (code !== 0) {
    console.log(`!! circuit-breaker-overhead.mjs failed (${code}): ${stderr}`);
    failures.push('circuit-breaker-overhead.mjs');
    return {};
  }
  // e.g. "opossum bridged / bare:   1.12x (+41 ns/call)"
  const added = {};
  for (const match of stdout.matchAll(/^(.+?) \/ bare:\s+([\d.]+)x \(\+?(-?\d+) ns\/call\)/gm)) added[match[1].trim()] = Number(match[3]);
  return added;
}

async function runPool() {
  console.log('\n--- node bench/pool-acquire.mjs ---');
  const { code, stdout, stderr } = await run(process.execPath, [join(bench, 'pool-acquire.mjs')], { cwd: root });
  process.stdout.write(stdout);
  if (code !== 0) {
    console.log(`!! pool-acquire.mjs failed (${code}): ${stderr}`);
    failures.push('pool-acquire.mjs');
    return {};
  }
  // e.g. "tarn           bare    1234 ns/acquire   bridged    1300 ns/acquire   overhead     66 ns   ratio 1.05x"
  const added = {};
  for (const match of stdout.matchAll(/^(\S.*?)\s+bare\s+\d+ ns\/acquire\s+bridged\s+\d+ ns\/acquire\s+overhead\s+(-?\d+) ns/gm)) added[match[1].trim()] = Number(match[2]);
  return added;
}

async function runMicro() {
  const metricsNs = await runMicroMetrics();
  const breaker = await runBreaker();
  const pool = await runPool();
  const rows = [['added cost', 'ns']];
  for (const [name, ns] of Object.entries(breaker)) rows.push([`breaker call: ${name}`, ns]);
  for (const [name, ns] of Object.entries(pool)) rows.push([`pool acquire+release: ${name}`, ns]);
  console.log('\nAdded cost per call (bridged − bare, medians from the scripts above):');
  printTable(rows);
  markdown.push(`### Micro: added cost of the bridges, ns per call\n\n${markdownTable(rows)}`);
  return { metricsNs, breaker, pool };
}

// ---------------------------------------------------------------------------------------------
// Targets.

function targetRows(http, startup, micro) {
  const cpuRatio = (name) => (http?.[name] && http.bare ? http[name].cpuUsPerRequest / http.bare.cpuUsPerRequest : undefined);
  const worst = (record) => (record && Object.keys(record).length ? Math.max(...Object.values(record)) : undefined);
  const worstName = (record) => Object.entries(record ?? {}).sort((a, b) => b[1] - a[1])[0]?.[0];
  const bound = micro?.metricsNs ?? {};
  const histogram = bound['otelkit bound histogram.record(v)'];
  const counter = bound['otelkit bound counter.add(1)'];
  const targets = [
    ['server CPU/request, otelkit-metrics vs bare', cpuRatio('otelkit-metrics'), (v) => `${fixed(v, 2)}×`, (v) => v <= 1.1, '≤ 1.10×'],
    ['server CPU/request, otelkit (default) vs bare', cpuRatio('otelkit'), (v) => `${fixed(v, 2)}×`, (v) => v <= 1.15, '≤ 1.15×'],
    ['server CPU/request, otelkit-otlp vs bare', cpuRatio('otelkit-otlp'), (v) => `${fixed(v, 2)}×`, (v) => v <= 1.6, '≤ 1.60×'],
    [
      'bound histogram record / counter add',
      histogram !== undefined && counter !== undefined ? [histogram, counter] : undefined,
      ([h, c]) => `${fixed(h, 1)} ns / ${fixed(c, 1)} ns`,
      ([h, c]) => h <= 25 && c <= 10,
      '≤ 25 ns / ≤ 10 ns',
    ],
    [
      'breaker call added; pool acquire+release added (worst bridge)',
      worst(micro?.breaker) !== undefined && worst(micro?.pool) !== undefined ? [worst(micro.breaker), worst(micro.pool)] : undefined,
      ([b, p]) => `${b} ns (${worstName(micro.breaker)}); ${p} ns (${worstName(micro.pool)})`,
      ([b, p]) => b <= 100 && p <= 200,
      '≤ 100 ns; ≤ 200 ns',
    ],
    ['start-up added by the otelkit preload', startup ? startup.otelkit - startup.bare : undefined, (v) => `${signed(v)} ms`, (v) => v <= 60, '≤ +60 ms'],
    [
      'RSS after load, otelkit-metrics over bare',
      http?.['otelkit-metrics'] && http.bare ? http['otelkit-metrics'].rssMb - http.bare.rssMb : undefined,
      (v) => `${signed(v)} MB`,
      (v) => v <= 25,
      '≤ +25 MB',
    ],
  ];
  const rows = [['target', 'measured', 'goal', 'result']];
  for (const [name, value, format, met, goal] of targets) {
    const measured = value !== undefined && [value].flat().every(Number.isFinite);
    rows.push(measured ? [name, format(value), goal, met(value) ? 'MET' : 'NOT MET'] : [name, 'not measured', goal, '—']);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

/** Modification times of the built packages: a rebuild during the run means the otelkit figures mix builds. */
function distStamp() {
  return ['core', 'node', 'circuit-breaker', 'pool']
    .map((name) => join(root, 'packages', name, 'dist', 'index.js'))
    .map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0))
    .join(',');
}

/** Runs one part if --only selects it; a failure is reported and the other parts still run. */
async function section(name, body) {
  if (!sections.has(name)) return undefined;
  try {
    return await body();
  } catch (error) {
    failures.push(name);
    console.log(`\n!! ${name} failed: ${error.stack ?? error}`);
    return undefined;
  }
}

async function main() {
  preflight();
  const stampAtStart = distStamp();
  const info = versions();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}, ${new Date().toISOString()}`;
  console.log(`compare.mjs: ${machine}`);
  console.log(`versions: ${Object.entries(info).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const http = await section('http', runHttp);
  const startup = await section('startup', runStartup);
  const micro = await section('micro', runMicro);

  if (distStamp() !== stampAtStart) console.log('\n!! packages/*/dist was rebuilt during this run: the otelkit figures may mix two builds; run again.');
  console.log('\n=== Targets ===');
  const targets = targetRows(http, startup, micro);
  printTable(targets);
  markdown.push(`### Targets\n\n${markdownTable(targets)}`);

  if (options.markdown) {
    const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
    console.log('\n=== Markdown ===\n');
    console.log(`Measured on ${nproc} cores (${cpus()[0]?.model.trim()}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ` +
      `server pinned to core 0, wrk on core 1. Versions: ${Object.entries(info).map(([k, v]) => `${k} ${v}`).join(', ')}.\n`);
    console.log(markdown.join('\n\n'));
  }
  if (failures.length) {
    console.log(`\n!! not measured because of failures: ${failures.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(`compare.mjs failed: ${error.stack ?? error}`);
  killAll();
  process.exit(1);
});
