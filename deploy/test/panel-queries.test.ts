import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, startPrometheus, waitFor } from '../../test-support/demo-and-prometheus.js';
import { dashboardQueries, emptyQueries, loadYaml, metricNamesIn, REPO_ROOT, substituteGrafanaVariables, type PanelQuery } from './checks.js';

const RULE_FILES = ['otelkit-recording.yml', 'otelkit-alerts.yml'].map((file) => join(REPO_ROOT, 'deploy', 'prometheus', 'rules', file));

/** The job deploy/prometheus/prometheus.yml scrapes the demo as (the dashboards' trace link relies on it). */
function demoJobName(): string {
  const { scrape_configs } = loadYaml('deploy/prometheus/prometheus.yml');
  const job = scrape_configs.find((c: any) => c.static_configs?.some((s: any) => s.targets?.includes('demo:9464')));
  return job.job_name;
}

function recordingRuleQueries(): PanelQuery[] {
  const { groups } = loadYaml('deploy/prometheus/rules/otelkit-recording.yml');
  return groups.flatMap((group: any) =>
    group.rules.filter((rule: any) => rule.record).map((rule: any) => ({ source: `recording rule ${rule.record}`, expr: rule.record })),
  );
}

// A real Prometheus server scrapes the demo under load (breaker flipping every second) with the rule
// files loaded; every dashboard panel query and every recording rule must return at least one series.
describe('every dashboard panel and every recording rule has data on the demo', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  const panels = dashboardQueries();
  const rules = recordingRuleQueries();
  let stillEmpty: string[] = [];

  beforeAll(async () => {
    // As in docker-compose: the job name is the demo's service.name, which the trace links rely on.
    demo = await startDemo({ OTEL_SERVICE_NAME: demoJobName(), DEMO_QUOTE_PERIOD_MS: '1000', DEMO_LOAD: '40' });
    prometheus = await startPrometheus([`127.0.0.1:${demo.metricsPort}`], RULE_FILES, demoJobName());
    // Bounded: data for every query within 60 s, else the tests below list what stayed empty.
    await waitFor(
      async () => (stillEmpty = await emptyQueries(prometheus.url, [...panels, ...rules])).length === 0,
      60_000,
      () => stillEmpty.join('\n'),
    ).catch(() => undefined);
  }, 100_000);

  afterAll(async () => {
    await prometheus?.stop();
    await demo?.stop();
  });

  it('scrapes the demo under the job name deploy/prometheus/prometheus.yml uses, equal to its service.name', async () => {
    expect(demoJobName()).toBe('otelkit-demo');
    const { query } = await import('../../test-support/demo-and-prometheus.js');
    const info = await query(prometheus.url, `target_info{job="${demoJobName()}"}`);
    expect(info.map((r) => r.metric.service_name)).toEqual([demoJobName()]);
  });

  it('finds the queries: five dashboards, every panel has one, only known variables', () => {
    expect(new Set(panels.map((q) => q.source.split(' / ')[0])).size).toBe(5);
    expect(panels.length).toBeGreaterThanOrEqual(25);
    for (const { source, expr } of panels) expect(substituteGrafanaVariables(expr), source).not.toMatch(/\$/);
    expect(rules.length).toBe(7);
  });

  it('returns data for every dashboard panel query', async () => {
    expect(await emptyQueries(prometheus.url, panels)).toEqual([]);
  });

  it('returns data for every recording rule', async () => {
    expect(await emptyQueries(prometheus.url, rules)).toEqual([]);
  });

  it('reports a panel query that names a metric otelkit does not produce', async () => {
    // The stock exporter's name without the unit suffix: the mistake this check exists to catch.
    const real = panels.find((q) => q.expr.includes('http_server_request_duration_seconds_count'))!;
    const wrong = { source: real.source, expr: real.expr.replaceAll('http_server_request_duration_seconds_count', 'http_server_request_duration_count') };
    expect(await emptyQueries(prometheus.url, [real])).toEqual([]);
    const reported = await emptyQueries(prometheus.url, [wrong]);
    expect(reported).toEqual([
      expect.stringMatching(/no data for .*http_server_request_duration_count/),
      expect.stringMatching(/no series named http_server_request_duration_count/),
    ]);
  });

  it('reports a ratio whose numerator names a metric otelkit does not produce, though it returns 0', async () => {
    const ratio = [...panels, ...rules].find((q) => /cache_requests_total\{[^}]*hit/.test(q.expr))!;
    const wrong = { source: ratio.source, expr: ratio.expr.replace(/cache_requests_total(\{[^}]*hit)/, 'cache_requests_totl$1') };
    expect(wrong.expr).not.toBe(ratio.expr);
    const reported = await emptyQueries(prometheus.url, [wrong]);
    expect(reported).toEqual([expect.stringMatching(/no series named cache_requests_totl/)]);
  });
});

describe('metric names in PromQL', () => {
  it('finds the metrics an expression reads, not functions, keywords, labels or durations', () => {
    expect(
      metricNamesIn(
        'sum by (job, cache_name) (rate(cache_requests_total{cache_result="hit", job=~"a.+"}[30s])) / on (job) group_left sum(rate(x_total[5m])) > bool 0.5 or vector(0) and up offset 5m',
      ).sort(),
    ).toEqual(['cache_requests_total', 'up', 'x_total']);
    expect(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[1m])))')).toEqual([
      'http_server_request_duration_seconds_bucket',
    ]);
    expect(metricNamesIn('cache:hit_ratio:rate5m >= 0.9')).toEqual(['cache:hit_ratio:rate5m']);
    expect(metricNamesIn("label_replace(up, 'dst', '$1', 'src', '(.*)')")).toEqual(['up']);
    expect(metricNamesIn('SUM BY (le) (rate(x_bucket[1m])) atan2 y')).toEqual(['x_bucket', 'y']);
  });
});
