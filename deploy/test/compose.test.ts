import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeProblems, loadYaml, REPO_ROOT } from './checks.js';

// Docker can't run here, so docker-compose.yml is checked as data: it parses, images are pinned, every
// service has a health check, every bind-mounted file exists, no secret is written in it, and its ports
// agree with the Prometheus and collector configurations.
describe('docker-compose.yml', () => {
  const compose = loadYaml('docker-compose.yml');
  const services = compose.services;

  it('has pinned images, health checks, existing mounts, loopback ports and no secrets', () => {
    expect(Object.keys(services).sort()).toEqual(['demo', 'grafana', 'jaeger', 'otel-collector', 'postgres', 'prometheus']);
    expect(composeProblems(compose)).toEqual([]);
  });

  it('builds the demo from this repository and starts it with the otelkit preload', () => {
    expect(services.demo.build).toEqual({ context: '.', dockerfile: 'deploy/demo.Dockerfile' });
    expect(services.demo.command.join(' ')).toBe('node --import @otelkit/node/register dist/main.js');
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'demo.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/tsc -b/);
    expect(dockerfile).toMatch(/CMD \["node", "--import", "@otelkit\/node\/register", "dist\/main.js"\]/);
    expect(services.demo.environment.DATABASE_URL).toMatch(/^postgres:\/\/otelkit@postgres:5432\//);
  });

  it('agrees with prometheus.yml and otel-collector.yaml on hosts and ports', () => {
    const env = services.demo.environment;
    expect(env.OTEL_EXPORTER_PROMETHEUS_HOST).toBe('0.0.0.0');
    const prometheus = loadYaml('deploy/prometheus/prometheus.yml');
    const demoJob = prometheus.scrape_configs.find((job: any) => job.job_name === env.OTEL_SERVICE_NAME);
    expect(demoJob.static_configs[0].targets).toEqual([`demo:${env.OTEL_EXPORTER_PROMETHEUS_PORT}`]);
    const collector = loadYaml('otel-collector.yaml');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://otel-collector:${collector.receivers.otlp.protocols.http.endpoint.split(':')[1]}`);
    expect(services.prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(services['otel-collector'].volumes[0]).toMatch(/^\.\/otel-collector\.yaml:/);
  });

  it('reports an unpinned image, a missing mounted file, a missing health check and a password', () => {
    const broken = structuredClone(compose);
    broken.services.grafana.image = 'grafana/grafana:latest';
    broken.services.jaeger.image = 'jaegertracing/all-in-one';
    broken.services.prometheus.volumes = ['./deploy/prometheus/missing.yml:/etc/prometheus/prometheus.yml:ro'];
    delete broken.services.postgres.healthcheck;
    broken.services.postgres.environment.POSTGRES_PASSWORD = 'hunter2';
    expect(composeProblems(broken).sort()).toEqual([
      'grafana: image grafana/grafana:latest has no pinned tag',
      'jaeger: image jaegertracing/all-in-one has no pinned tag',
      'postgres: POSTGRES_PASSWORD holds a secret in the file',
      'postgres: no healthcheck',
      'prometheus: mounted ./deploy/prometheus/missing.yml does not exist',
    ]);
  });
});
