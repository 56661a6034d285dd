import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, startDemo, startPrometheus, waitFor } from '../../../test-support/demo-and-prometheus.js';
import { promtoolCheckMetrics } from '../../../test-support/promtool.js';

// A real Prometheus server (Debian's `prometheus` package) scrapes the demo under its own load.
describe('the demo under a real Prometheus server', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;

  beforeAll(async () => {
    demo = await startDemo({ OTEL_SERVICE_NAME: 'otelkit-demo', DEMO_QUOTE_PERIOD_MS: '1000' });
    prometheus = await startPrometheus([`127.0.0.1:${demo.metricsPort}`]);
    // Wait until a rate over the scrapes is defined: at least two scrapes with traffic between them.
    await waitFor(
      async () => (await query(prometheus.url, 'sum(rate(http_server_request_duration_seconds_count[15s]))')).some((r) => Number(r.value[1]) > 0),
      30_000,
      () => prometheus.output(),
    );
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await demo?.stop();
  });

  it('exposes valid Prometheus text: promtool reports one known lint, nothing else', async () => {
    const text = await (await fetch(`http://127.0.0.1:${demo.metricsPort}/metrics`)).text();
    const { status, output } = promtoolCheckMetrics(text);
    // The semantic-convention name db.client.connection.count becomes db_client_connection_count, a gauge
    // whose `_count` suffix promtool's linter (not its parser) flags. Kept: renaming would leave the convention.
    const lint = output.split('\n').filter((line) => line.trim() !== '');
    expect(lint).toEqual(['db_client_connection_count non-histogram and non-summary metrics should not have "_count" suffix']);
    expect(status).toBe(3); // promtool's exit code for lint findings only; 1 would mean unparsable text
  });

  it('scrapes the target successfully', async () => {
    const up = await query(prometheus.url, 'up');
    expect(up.map((r) => r.value[1])).toEqual(['1']);
  });

  it('computes the 99th percentile of request duration per route', async () => {
    const p99 = await query(
      prometheus.url,
      'histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket[15s])))',
    );
    const byRoute = Object.fromEntries(p99.map((r) => [r.metric.http_route, Number(r.value[1])]));
    expect(Object.keys(byRoute).sort()).toEqual(expect.arrayContaining(['/', '/fail', '/users/:id']));
    for (const [route, seconds] of Object.entries(byRoute)) {
      if (Number.isNaN(seconds)) continue; // a route with no request in the window
      expect(seconds, route).toBeGreaterThan(0);
      expect(seconds, route).toBeLessThanOrEqual(10);
    }
  });

  it('computes an error ratio from the failing route', async () => {
    const [ratio] = await query(
      prometheus.url,
      'sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[15s])) / sum(rate(http_server_request_duration_seconds_count[15s]))',
    );
    expect(Number(ratio?.value[1])).toBeGreaterThan(0);
    expect(Number(ratio?.value[1])).toBeLessThan(1);
  });

  it('shows the zero-code circuit breaker opening on the flaky downstream', async () => {
    await waitFor(
      async () =>
        (await query(prometheus.url, 'sum(circuit_breaker_transitions_total{circuit_breaker_name="quote-service",circuit_breaker_transition_to="open"})')).some(
          (r) => Number(r.value[1]) > 0,
        ),
      20_000,
      () => prometheus.output(),
    );
    const states = await query(prometheus.url, 'circuit_breaker_state{circuit_breaker_name="quote-service"}');
    expect(states.map((r) => r.metric.circuit_breaker_state).sort()).toEqual(['closed', 'half_open', 'open']);
    expect(states.reduce((sum, r) => sum + Number(r.value[1]), 0)).toBe(1);
  }, 30_000);

  it('shows a cache hit ratio and pool utilization', async () => {
    // Both results must have been seen (the load repeats some user ids and draws others at random).
    const seen = 'sum by (cache_result) (increase(cache_requests_total{cache_name="users"}[1m])) > 0';
    await waitFor(async () => (await query(prometheus.url, seen)).length === 2, 20_000, () => prometheus.output());
    const [ratio] = await query(
      prometheus.url,
      'sum(increase(cache_requests_total{cache_name="users",cache_result="hit"}[1m])) / sum(increase(cache_requests_total{cache_name="users"}[1m]))',
    );
    expect(Number(ratio?.value[1])).toBeGreaterThan(0);
    expect(Number(ratio?.value[1])).toBeLessThan(1);
    // The pool is busy only while a /pool request holds a connection: wait for a scrape that saw one.
    const utilization = 'max_over_time(db_client_connection_utilization_ratio{db_client_connection_pool_name="blocks"}[1m])';
    await waitFor(async () => (await query(prometheus.url, utilization)).some((r) => Number(r.value[1]) > 0), 20_000, () => prometheus.output());
    const [peak] = await query(prometheus.url, utilization);
    expect(Number(peak?.value[1])).toBeLessThanOrEqual(1);
  }, 30_000);
});
