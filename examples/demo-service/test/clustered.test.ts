import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, waitFor } from '../../../test-support/demo-and-prometheus.js';
import { parseSamples } from '../../../test-support/prometheus-text.js';
import { promtoolCheckMetrics } from '../../../test-support/promtool.js';

// `DEMO_WORKERS=4 npm run demo`: four cluster workers, one /metrics on the primary summing them.

/** A GET on a connection of its own (the cluster hands connections, not requests, to its workers). */
function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

describe('the demo, clustered', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  beforeAll(async () => {
    demo = await startDemo({ DEMO_WORKERS: '4', DEMO_LOAD: '0', DEMO_SUMMARY_SECONDS: '0' });
    await waitFor(async () => demo.output().includes('4 cluster workers'), 15_000, () => demo.output());
  }, 30_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it('serves one /metrics on the primary with every request to every worker, exactly once', async () => {
    const n = 120;
    for (let i = 0; i < n; i++) expect(await getStatus(`http://127.0.0.1:${demo.appPort}/users/${i % 7}`)).toBe(200);
    const metricsUrl = `http://127.0.0.1:${demo.metricsPort}/metrics`;
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(metricsUrl)).text();
        const count = parseSamples(text).filter((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_route === '/users/:id');
        return count.reduce((sum, s) => sum + s.value, 0) === n;
      },
      10_000,
      () => text,
    );
    const samples = parseSamples(text);
    const workers = new Set(samples.filter((s) => s.name === 'process_uptime_seconds').map((s) => s.labels.otelkit_worker));
    expect([...workers].sort()).toEqual(['1', '2', '3', '4', 'primary']);
    // The requests were spread over the workers: more than one answered (each has its own cache).
    const misses = samples.filter((s) => s.name === 'cache_requests_total' && s.labels.cache_result === 'miss').reduce((sum, s) => sum + s.value, 0);
    expect(misses).toBeGreaterThan(7);
    // The aggregate is a valid exposition, with the single-process demo's one known lint and nothing else
    // (db.client.connection.count is the semantic conventions' name; see prometheus-server.test.ts).
    const { status, output } = promtoolCheckMetrics(text);
    expect(output.split('\n').filter((line) => line.trim() !== '')).toEqual([
      'db_client_connection_count non-histogram and non-summary metrics should not have "_count" suffix',
    ]);
    expect(status).toBe(3);
  });
});
