/**
 * The otelkit demo service. Start it with the preload (`npm run demo` does):
 *   node --import @otelkit/node/register dist/main.js
 * Environment: PORT (default 3000), DEMO_LOAD (requests per second of the built-in load, default 20,
 * 0 turns it off), DEMO_QUOTE_PERIOD_MS (how long the quote downstream stays good, then bad; default
 * 15000), DEMO_SUMMARY_SECONDS (how often to print a one-line summary read from /metrics, default 5,
 * 0 for none), DEMO_WORKERS (cluster workers sharing PORT, default 1: no cluster; the primary then
 * serves one /metrics summing them all), and every OTEL_* / OTELKIT_* variable otelkit reads.
 */
import cluster from 'node:cluster';
import { shutdown } from '@otelkit/node';
import { createApp } from './app.js';
import { startLoad } from './load.js';
import { startSummary } from './summary.js';

const port = Number(process.env.PORT ?? 3000);
const loadRate = Number(process.env.DEMO_LOAD ?? 20);
const metricsHost = process.env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1';
const metricsPort = process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? '9464';

const quotePeriodMs = Number(process.env.DEMO_QUOTE_PERIOD_MS ?? 15_000);
const summarySeconds = Number(process.env.DEMO_SUMMARY_SECONDS ?? 5);

const workers = Number(process.env.DEMO_WORKERS ?? 1);
const base = `http://127.0.0.1:${port}`;
const metricsUrl = `http://${metricsHost}:${metricsPort}/metrics`;

if (workers > 1 && cluster.isPrimary) runPrimary();
else serve();

/** The app itself: a single process, or one of the cluster's workers. */
function serve(): void {
  const clustered = cluster.isWorker;
  const server = createApp({ quotePeriodMs }).listen(port, () => {
    if (clustered) {
      process.send?.({ listening: true });
      return;
    }
    const stop = startLoadAndSummary();
    server.once('close', stop);
    printBanner('');
  });
  // An app with its own signal handling awaits otelkit's shutdown (which flushes buffered spans and
  // metrics, and hands a worker's final counts to the primary, bounded by OTELKIT_SHUTDOWN_TIMEOUT_MS)
  // before it exits.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.close();
      server.closeAllConnections();
      void shutdown().finally(() => process.exit(0));
    });
  }
}

/** DEMO_WORKERS > 1: forks the workers (replacing any that dies), then runs the load and the summary. */
function runPrimary(): void {
  let listening = 0;
  let stopping = false;
  let stop = (): void => undefined;
  const fork = (): void => {
    cluster.fork().on('message', (message: { listening?: boolean }) => {
      if (message?.listening && ++listening === workers) {
        stop = startLoadAndSummary();
        printBanner(` (${workers} cluster workers; one /metrics on the primary sums them all)`);
      }
    });
  };
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', () => {
    if (!stopping) fork();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = true;
      stop();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(signal);
      cluster.on('exit', () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) void shutdown().finally(() => process.exit(0));
      });
    });
  }
}

function startLoadAndSummary(): () => void {
  const stopLoad = loadRate > 0 ? startLoad(base, loadRate) : () => undefined;
  const stopSummary = summarySeconds > 0 ? startSummary(metricsUrl, summarySeconds) : () => undefined;
  return () => {
    stopLoad();
    stopSummary();
  };
}

function printBanner(note: string): void {
  console.log(`otelkit demo listening on ${base} (load: ${loadRate > 0 ? `${loadRate} req/s` : 'off'})${note}`);
  console.log('Try:');
  console.log(`  curl ${base}/            # fast route`);
  console.log(`  curl ${base}/slow        # slow route`);
  console.log(`  curl -i ${base}/fail     # failing route (see the traceresponse header)`);
  console.log(`  curl -s ${metricsUrl} | grep http_server_request_duration_seconds`);
  console.log(`  curl -s ${metricsUrl} | grep circuit_breaker`);
  console.log(`  curl -s http://${metricsHost}:${metricsPort}/health/ready`);
}
