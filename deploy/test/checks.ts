/**
 * Checks of the deployment files, shared by the tests in this folder: the collector configuration, the
 * compose file and the Grafana dashboards' queries. Each check returns a list of problems (empty when
 * the file is right), so a test can also prove that a broken copy is reported.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { query } from '../../test-support/demo-and-prometheus.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'deploy', 'grafana', 'dashboards');

export function loadYaml(path: string): any {
  return parse(readFileSync(join(REPO_ROOT, path), 'utf8'));
}

/**
 * Component types of the official collector-contrib distribution (otel/opentelemetry-collector-contrib,
 * see its manifest, cmd/otelcontribcol/builder-config.yaml), limited to the ones a Node service's
 * pipeline plausibly uses. Not in the list on purpose: the `logging` exporter (removed in v0.111, use
 * `debug`) and the `jaeger` exporter (removed in v0.85, Jaeger takes OTLP).
 */
export const COLLECTOR_CONTRIB_COMPONENTS = {
  receivers: ['otlp', 'prometheus', 'hostmetrics', 'filelog', 'jaeger', 'zipkin', 'kafka', 'k8s_cluster', 'kubeletstats', 'docker_stats', 'postgresql', 'redis', 'httpcheck'],
  processors: ['memory_limiter', 'batch', 'resource', 'attributes', 'transform', 'filter', 'resourcedetection', 'k8sattributes', 'tail_sampling', 'probabilistic_sampler', 'span', 'groupbyattrs', 'cumulativetodelta', 'deltatocumulative', 'metricstransform', 'redaction'],
  exporters: ['otlp', 'otlphttp', 'prometheus', 'prometheusremotewrite', 'debug', 'file', 'kafka', 'loadbalancing', 'zipkin'],
  extensions: ['health_check', 'pprof', 'zpages', 'basicauth', 'bearertokenauth', 'oauth2client', 'file_storage'],
  connectors: ['spanmetrics', 'servicegraph', 'count', 'forward', 'routing'],
} as const;

type Kind = keyof typeof COLLECTOR_CONTRIB_COMPONENTS;
const typeOf = (id: string) => id.split('/')[0]!;

/** Problems of an OpenTelemetry Collector configuration (already parsed). */
export function collectorProblems(config: any): string[] {
  const problems: string[] = [];
  const defined = (kind: Kind): string[] => Object.keys(config?.[kind] ?? {});
  for (const key of Object.keys(config ?? {})) {
    if (!['service', ...Object.keys(COLLECTOR_CONTRIB_COMPONENTS)].includes(key)) problems.push(`unknown top-level section "${key}"`);
  }
  for (const kind of Object.keys(COLLECTOR_CONTRIB_COMPONENTS) as Kind[]) {
    for (const id of defined(kind)) {
      if (!(COLLECTOR_CONTRIB_COMPONENTS[kind] as readonly string[]).includes(typeOf(id))) problems.push(`${kind}: "${id}" is not a known collector-contrib component type`);
    }
  }
  const used = new Set<string>();
  const need = (kind: Kind | 'receivers or connectors' | 'exporters or connectors', id: string, where: string) => {
    const kinds: Kind[] = kind === 'receivers or connectors' ? ['receivers', 'connectors'] : kind === 'exporters or connectors' ? ['exporters', 'connectors'] : [kind];
    if (!kinds.some((k) => defined(k).includes(id))) problems.push(`${where} names ${kind} "${id}", which is not defined`);
    for (const k of kinds) used.add(`${k}:${id}`);
  };
  for (const id of config?.service?.extensions ?? []) need('extensions', id, 'service.extensions');
  const pipelines = Object.entries<any>(config?.service?.pipelines ?? {});
  if (pipelines.length === 0) problems.push('service.pipelines is empty');
  for (const [name, pipeline] of pipelines) {
    if (!['traces', 'metrics', 'logs'].includes(typeOf(name))) problems.push(`pipeline "${name}" is not traces, metrics or logs`);
    const receivers: string[] = pipeline?.receivers ?? [];
    const processors: string[] = pipeline?.processors ?? [];
    const exporters: string[] = pipeline?.exporters ?? [];
    if (receivers.length === 0) problems.push(`pipeline "${name}" has no receiver`);
    if (exporters.length === 0) problems.push(`pipeline "${name}" has no exporter`);
    for (const id of receivers) need('receivers or connectors', id, `pipeline "${name}"`);
    for (const id of processors) need('processors', id, `pipeline "${name}"`);
    for (const id of exporters) need('exporters or connectors', id, `pipeline "${name}"`);
    if (typeOf(processors[0] ?? '') !== 'memory_limiter') problems.push(`pipeline "${name}" does not start with memory_limiter`);
    if (!processors.some((id) => typeOf(id) === 'batch')) problems.push(`pipeline "${name}" has no batch processor`);
  }
  for (const kind of Object.keys(COLLECTOR_CONTRIB_COMPONENTS) as Kind[]) {
    for (const id of defined(kind)) if (!used.has(`${kind}:${id}`)) problems.push(`${kind}: "${id}" is defined but never used`);
  }
  return problems;
}

const SECRET_KEY = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;

function environmentOf(service: any): Record<string, string> {
  const env = service?.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line: string) => [line.split('=')[0], line.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

/** `name:tag` with a tag that is neither missing nor `latest` (a digest also pins). */
function imageIsPinned(image: string): boolean {
  if (image.includes('@sha256:')) return true;
  const lastPart = image.split('/').pop()!;
  const tag = lastPart.includes(':') ? lastPart.split(':').pop()! : '';
  return tag !== '' && tag !== 'latest';
}

/** Problems of a docker compose file (already parsed); paths are relative to `root`. */
export function composeProblems(compose: any, root: string = REPO_ROOT): string[] {
  const problems: string[] = [];
  const services = Object.entries<any>(compose?.services ?? {});
  if (services.length === 0) problems.push('no services');
  for (const [name, service] of services) {
    if (service.build) {
      const context = typeof service.build === 'string' ? service.build : service.build.context ?? '.';
      if (!existsSync(join(root, context))) problems.push(`${name}: build context ${context} does not exist`);
      const dockerfile = service.build.dockerfile;
      if (dockerfile && !existsSync(join(root, context, dockerfile))) problems.push(`${name}: ${dockerfile} does not exist`);
    } else if (typeof service.image !== 'string') {
      problems.push(`${name}: neither image nor build`);
    } else if (!imageIsPinned(service.image)) {
      problems.push(`${name}: image ${service.image} has no pinned tag`);
    }
    const test = service.healthcheck?.test;
    if (!test || service.healthcheck?.disable || (Array.isArray(test) && test[0] === 'NONE')) problems.push(`${name}: no healthcheck`);
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0]! : volume.type === 'bind' ? volume.source : undefined;
      if (!source || !(source.startsWith('.') || isAbsolute(source))) continue; // a named volume
      if (!existsSync(resolve(root, source))) problems.push(`${name}: mounted ${source} does not exist`);
    }
    for (const port of service.ports ?? []) {
      if (!String(port).startsWith('127.0.0.1:')) problems.push(`${name}: port ${port} is published beyond loopback`);
    }
    for (const [key, value] of Object.entries(environmentOf(service))) {
      if (SECRET_KEY.test(key) && !key.endsWith('__FILE') && value !== '') problems.push(`${name}: ${key} holds a secret in the file`);
      if (/:\/\/[^/@\s:]+:[^/@\s]+@/.test(value)) problems.push(`${name}: ${key} holds a URL with a password`);
    }
  }
  return problems;
}

export type PanelQuery = { source: string; expr: string };

/** Every target expression of every dashboard panel (rows' nested panels included). */
export function dashboardQueries(dir: string = DASHBOARDS_DIR): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const panels = (dashboard.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]);
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ source: `${file} / ${panel.title} / ${target.refId}`, expr: target.expr });
      }
    }
  }
  return queries;
}

/**
 * Replaces Grafana's variables by values Prometheus accepts. The dashboards only use `$__rate_interval`
 * and `$job`, and `$job` only inside `=~"…"` matchers, whose "All" value is `.+`, so substituting that
 * value queries exactly what Grafana queries with "All" selected.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '30s')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '5m')
    .replace(/\$\{job(:regex)?\}|\$job\b/g, '.+');
}

/** The queries that return no series (or fail) on the Prometheus at `url`, with the reason. */
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: identifiers outside label matchers, grouping clauses
 * and range selectors that are not function calls or keywords.
 */
export function metricNamesIn(promql: string): string[] {
  const bare = promql
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/`[^`]*`/g, '``')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1]!;
    if (!PROMQL_KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/**
 * The queries that return nothing, and the metric names they read that Prometheus has never seen.
 * The second check matters for expressions built to return 0 rather than nothing (`(a or b * 0) / b`):
 * a misspelled `a` there still returns data.
 */
export async function emptyQueries(url: string, queries: PanelQuery[]): Promise<string[]> {
  const empty: string[] = [];
  const known = new Map<string, boolean>();
  for (const { source, expr } of queries) {
    const promql = substituteGrafanaVariables(expr);
    try {
      if ((await query(url, promql)).length === 0) empty.push(`${source}: no data for ${promql}`);
      for (const name of metricNamesIn(promql)) {
        if (!known.has(name)) known.set(name, (await query(url, `count({__name__="${name}"})`)).length > 0);
        if (!known.get(name)) empty.push(`${source}: no series named ${name} in ${promql}`);
      }
    } catch (error) {
      empty.push(`${source}: ${(error as Error).message}`);
    }
  }
  return empty;
}
