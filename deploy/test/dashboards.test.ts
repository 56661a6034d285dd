import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS_DIR, loadYaml } from './checks.js';

// Grafana can't run here: the provisioning and dashboards are checked as data (the panel queries are
// run against a real Prometheus in panel-queries.test.ts).
describe('Grafana provisioning and dashboards', () => {
  const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
  const dashboards = files.map((file) => ({ file, ...JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) }));
  const datasources = loadYaml('deploy/grafana/provisioning/datasources/otelkit.yml').datasources;
  const compose = loadYaml('docker-compose.yml');

  it('has the five dashboards, each with a unique uid', () => {
    expect(files).toEqual(['otelkit-caches.json', 'otelkit-circuit-breakers.json', 'otelkit-pools.json', 'otelkit-runtime.json', 'otelkit-service-overview.json']);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(5);
  });

  it('points every panel and target at a provisioned data source, and data sources at compose services', () => {
    const uids = new Set(datasources.map((d: any) => d.uid));
    for (const dashboard of dashboards) {
      for (const panel of dashboard.panels) {
        expect(uids, `${dashboard.file} / ${panel.title}`).toContain(panel.datasource.uid);
        for (const target of panel.targets) expect(uids).toContain(target.datasource.uid);
        expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      }
    }
    for (const datasource of datasources) expect(Object.keys(compose.services)).toContain(new URL(datasource.url).hostname);
  });

  it('uses only the job variable, whose All value is a regex so queries can use it in =~ matchers', () => {
    for (const dashboard of dashboards) {
      expect(dashboard.templating.list.map((v: any) => [v.name, v.allValue])).toEqual([['job', '.+']]);
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets) {
          const variables = [...expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]);
          expect(variables.every((v: string) => v === 'job' || v === '__rate_interval'), expr).toBe(true);
          if (expr.includes('$job')) expect(expr.match(/\$job/g)!.length, expr).toBe(expr.match(/job=~"\$job"/g)!.length);
        }
      }
    }
  });

  it('links the latency panel to traces in Jaeger', () => {
    const overview = dashboards.find((d) => d.uid === 'otelkit-service-overview')!;
    const latency = overview.panels.find((p: any) => p.title.startsWith('Latency'));
    expect(latency.fieldConfig.defaults.links[0].url).toMatch(/^http:\/\/localhost:16686\/search\?service=\$\{__field\.labels\.job\}/);
    expect(compose.services.jaeger.ports).toContain('127.0.0.1:16686:16686');
    expect(compose.services.demo.environment.OTEL_SERVICE_NAME).toBe('otelkit-demo');
  });

  it('provisions the dashboards folder compose mounts', () => {
    const provider = loadYaml('deploy/grafana/provisioning/dashboards/otelkit.yml').providers[0];
    expect(compose.services.grafana.volumes).toContain(`./deploy/grafana/dashboards:${provider.options.path}:ro`);
    expect(compose.services.grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});
