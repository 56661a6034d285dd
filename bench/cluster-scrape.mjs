#!/usr/bin/env node
// Cluster scrape benchmark (issue 13): what one scrape of a 4-worker cluster's aggregate /metrics
// costs, otelkit beside prom-client's AggregatorRegistry (the documented prom-client cluster setup),
// in the same run.
//
// Usage: taskset -c 1 node bench/cluster-scrape.mjs [--rounds 3] [--scrapes 100] [--markdown]
//
// Each case starts its cluster (primary + WORKERS=4 workers) pinned to core 0 (taskset; the workers
// inherit it), sends 2,000 requests on fresh connections (so every worker serves some), then scrapes
// the primary's /metrics `--scrapes` times one after another from this process (run it on core 1).
// Per case: median and p95 scrape time, CPU per scrape of the primary alone and of every process of
// the cluster (utime + stime from /proc, so the workers' answers count), body size and series.
// Rounds rotate the order; figures are medians over rounds.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, scrapes: { type: 'string', default: '100' }, markdown: { type: 'boolean', default: false } },
});
const rounds = Number(options.rounds);
const scrapes = Number(options.scrapes);
const bench = dirname(fileURLToPath(import.meta.url));
const TICK_MS = 1000 / 100; // USER_HZ

const CASES = {
  otelkit: (appPort, metricsPort) => ({
    args: ['--import', '@otelkit/node/register', join(bench, 'fixtures', 'otelkit-cluster.mjs')],
    env: { APP_PORT: String(appPort), OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) },
  }),
  'prom-client AggregatorRegistry': (appPort, metricsPort) => ({
    args: [join(bench, 'fixtures', 'prom-client-cluster.cjs')],
    env: { APP_PORT: String(appPort), METRICS_PORT: String(metricsPort) },
  }),
};

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function getOnNewConnection(port, path) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });
}

/** utime + stime of a process, in ms. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function childrenOf(pid) {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

async function runCase(name) {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const { args, env } = CASES[name](appPort, metricsPort);
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: bench, env: { PATH: process.env.PATH, WORKERS: '4', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/LISTENING \d+/.test(stdout)) resolve();
    });
    child.once('exit', () => reject(new Error(`${name} exited: ${stdout}`)));
  });
  // taskset execs node: the spawned pid is the primary.
  const primary = child.pid;
  try {
    const requests = 2000;
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next++ < requests) await getOnNewConnection(appPort, `/users/${next % 50}`);
    }));
    for (let i = 0; i < 10; i++) await getOnNewConnection(metricsPort, '/metrics');
    const pids = [primary, ...childrenOf(primary)];
    const cpuBefore = pids.map(cpuMs);
    const times = [];
    let body = Buffer.alloc(0);
    for (let i = 0; i < scrapes; i++) {
      const started = performance.now();
      body = await getOnNewConnection(metricsPort, '/metrics');
      times.push(performance.now() - started);
    }
    const cpuAfter = pids.map(cpuMs);
    const text = body.toString('utf8');
    times.sort((a, b) => a - b);
    return {
      medianMs: times[Math.floor(times.length / 2)],
      p95Ms: times[Math.floor(times.length * 0.95)],
      primaryCpuMs: (cpuAfter[0] - cpuBefore[0]) / scrapes,
      clusterCpuMs: cpuAfter.reduce((sum, cpu, i) => sum + cpu - cpuBefore[i], 0) / scrapes,
      bytes: body.length,
      series: text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length,
      processes: pids.length,
    };
  } finally {
    // The workers die with their IPC channel once the primary is gone.
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()));
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const names = Object.keys(CASES);
const results = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? names : [...names].reverse();
  for (const name of order) {
    const result = await runCase(name);
    results[name].push(result);
    console.error(`round ${round + 1} ${name}: ${JSON.stringify(result)}`);
  }
}
const rows = names.map((name) => {
  const all = results[name];
  const pick = (key) => median(all.map((result) => result[key]));
  return { name, median: pick('medianMs'), p95: pick('p95Ms'), primary: pick('primaryCpuMs'), cluster: pick('clusterCpuMs'), bytes: pick('bytes'), series: pick('series') };
});
if (options.markdown) {
  console.log(`4 workers, ${scrapes} scrapes per round, ${rounds} rounds (medians); Node ${process.version}`);
  console.log('');
  console.log('| implementation | scrape, median | p95 | CPU per scrape, primary | CPU per scrape, all processes | body | samples |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(`| ${row.name} | ${row.median.toFixed(2)} ms | ${row.p95.toFixed(2)} ms | ${row.primary.toFixed(2)} ms | ${row.cluster.toFixed(2)} ms | ${(row.bytes / 1024).toFixed(1)} KiB | ${row.series} |`);
  }
} else {
  console.log(JSON.stringify(rows, null, 2));
}
