// ns per lru-cache `get`, bare vs bridged by @otelkit/cache, hit and miss, in one run.
// Each case runs in its own child process (no JIT state shared between cases), in rotated order,
// several rounds; the figures are medians. Run: npm run build && node bench/cache-get.mjs
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// `channel-*`: the alternative we did not ship, lru-cache 11's own `lru-cache:metrics` diagnostics
// channel with one subscriber counting `status.get` (lru-cache then allocates a status per get).
const CASES = ['bare-hit', 'bridged-hit', 'bare-miss', 'bridged-miss', ...(process.env.LRU_MODULE ? [] : ['channel-hit', 'channel-miss'])];
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const OPS = 2_000_000;
const RUNS = 7;

async function child(kind) {
  const { LRUCache } = await import(process.env.LRU_MODULE ?? 'lru-cache');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { metrics } = await import('@opentelemetry/api');
  class Reader extends MetricReader { async onForceFlush() {} async onShutdown() {} }
  const reader = new Reader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const { instrumentLruCache, trackLruCacheEvictions } = await import('@otelkit/cache');

  const bridged = kind.startsWith('bridged');
  const options = { max: 4096 };
  const cache = new LRUCache(bridged ? trackLruCacheEvictions(options) : options);
  if (bridged) instrumentLruCache(cache, { name: 'bench' });
  if (kind.startsWith('channel')) {
    const { subscribe } = await import('node:diagnostics_channel');
    const counts = new WeakMap([[cache, { hit: 0, miss: 0 }]]);
    subscribe('lru-cache:metrics', (status) => {
      const c = counts.get(status.cache);
      if (c !== undefined && status.op === 'get') status.get === 'hit' ? c.hit++ : c.miss++;
    });
  }
  const present = Array.from({ length: 1024 }, (_, i) => `key:${i}`);
  for (const key of present) cache.set(key, { id: key });
  const keys = kind.endsWith('hit') ? present : present.map((key) => `absent:${key}`);

  let found = 0;
  const loop = (ops) => {
    for (let i = 0; i < ops; i++) if (cache.get(keys[i & 1023]) !== undefined) found++;
  };
  loop(OPS); loop(OPS); // warm-up
  const samples = [];
  for (let run = 0; run < RUNS; run++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    loop(OPS);
    samples.push(Number(process.hrtime.bigint() - start) / OPS);
  }
  // The bridged cache's observable callback runs once, as in a real scrape; its count must match.
  const { resourceMetrics } = await reader.collect();
  const requests = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'cache.requests');
  const counted = requests ? requests.dataPoints.reduce((sum, point) => sum + point.value, 0) : 0;
  if (bridged && counted !== (RUNS + 2) * OPS) throw new Error(`bridged cache counted ${counted}, expected ${(RUNS + 2) * OPS}`);
  process.send({ kind, ns: median(samples), found });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function run(kind) {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), [kind], { execArgv: ['--expose-gc'] });
    proc.on('message', resolve);
    proc.on('error', reject);
    proc.on('exit', (code) => code && reject(new Error(`${kind} exited with ${code}`)));
  });
}

async function parent() {
  const results = Object.fromEntries(CASES.map((kind) => [kind, []]));
  const ratios = { hit: [], miss: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]);
    const byKind = {};
    for (const kind of order) byKind[kind] = (await run(kind)).ns;
    for (const kind of CASES) results[kind].push(byKind[kind]);
    for (const result of ['hit', 'miss'])
      ratios[result].push({ added: byKind[`bridged-${result}`] - byKind[`bare-${result}`], ratio: byKind[`bridged-${result}`] / byKind[`bare-${result}`] });
  }
  console.log(`lru-cache get, ${OPS} ops x ${RUNS} runs per process, ${ROUNDS} rounds (node ${process.version}${process.env.LRU_MODULE ? `, ${process.env.LRU_MODULE}` : ''})`);
  console.log('case           median ns/get   per-round');
  for (const kind of CASES)
    console.log(`${kind.padEnd(14)} ${median(results[kind]).toFixed(1).padStart(13)}   ${results[kind].map((v) => v.toFixed(1)).join(' ')}`);
  for (const result of ['hit', 'miss']) {
    const added = median(ratios[result].map((r) => r.added));
    const ratio = median(ratios[result].map((r) => r.ratio));
    console.log(`${result.padEnd(5)} bridged - bare: ${added.toFixed(1)} ns/get added (median of per-round differences), ratio ${ratio.toFixed(2)}x`);
  }
  if (results['channel-hit']) {
    for (const result of ['hit', 'miss']) {
      const added = median(results[`channel-${result}`].map((v, i) => v - results[`bare-${result}`][i]));
      console.log(`${result.padEnd(5)} channel - bare: ${added.toFixed(1)} ns/get added (not shipped; for comparison)`);
    }
  }
}

if (process.argv[2]) await child(process.argv[2]);
else await parent();
