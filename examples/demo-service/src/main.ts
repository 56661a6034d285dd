/**
 * The otelkit demo service. Start it with the preload (`npm run demo` does):
 *   node --import @otelkit/node/register dist/main.js
 * Environment: PORT (default 3000), DEMO_LOAD (requests per second of the built-in load, default 20,
 * 0 turns it off), DEMO_QUOTE_PERIOD_MS (how long the quote downstream stays good, then bad; default
 * 15000), DEMO_SUMMARY_SECONDS (how often to print a one-line summary read from /metrics, default 5,
 * 0 for none), and every OTEL_* / OTELKIT_* variable otelkit reads.
 */
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

const server = createApp({ quotePeriodMs }).listen(port, () => {
  const base = `http://127.0.0.1:${port}`;
  const stopLoad = loadRate > 0 ? startLoad(base, loadRate) : () => undefined;
  const stopSummary = summarySeconds > 0 ? startSummary(`http://${metricsHost}:${metricsPort}/metrics`, summarySeconds) : () => undefined;
  server.once('close', () => {
    stopLoad();
    stopSummary();
  });
  console.log(`otelkit demo listening on ${base} (load: ${loadRate > 0 ? `${loadRate} req/s` : 'off'})`);
  console.log('Try:');
  console.log(`  curl ${base}/            # fast route`);
  console.log(`  curl ${base}/slow        # slow route`);
  console.log(`  curl -i ${base}/fail     # failing route (see the traceresponse header)`);
  console.log(`  curl -s http://${metricsHost}:${metricsPort}/metrics | grep http_server_request_duration_seconds`);
  console.log(`  curl -s http://${metricsHost}:${metricsPort}/metrics | grep circuit_breaker`);
  console.log(`  curl -s http://${metricsHost}:${metricsPort}/health/ready`);
});

// An app with its own signal handling awaits otelkit's shutdown (which flushes buffered spans and
// metrics, bounded by OTELKIT_SHUTDOWN_TIMEOUT_MS) before it exits.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void shutdown().finally(() => process.exit(0));
  });
}
