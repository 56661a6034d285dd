import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, waitFor } from '../../../../test-support/demo-and-prometheus.js';
import { freePort, startApp, startOtlpReceiver, type RunningApp } from '../support.js';

// A real Prometheus (Debian's 2.42) scraping a service under load: with native histograms and
// exemplar storage on, it negotiates protobuf and answers quantiles from the native histogram, and its
// exemplars name traces the OTLP receiver got; with the flags off, it scrapes OpenMetrics and the
// classic buckets answer.

type Vector = Array<{ metric: Record<string, string>; value?: [number, string]; histogram?: [number, { count: string; buckets?: unknown[] }] }>;

async function instant(url: string, promql: string): Promise<Vector> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: Vector } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

type ExemplarSeries = Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }>;

async function exemplars(url: string, promql: string): Promise<ExemplarSeries> {
  const now = Date.now() / 1000;
  const response = await fetch(`${url}/api/v1/query_exemplars?query=${encodeURIComponent(promql)}&start=${now - 300}&end=${now + 60}`);
  const body = (await response.json()) as { status: string; error?: string; data: ExemplarSeries };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data;
}

describe('a real Prometheus scraping /metrics', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let app: RunningApp;
  let metricsPort: number;
  let load: NodeJS.Timeout;
  let native: Awaited<ReturnType<typeof startPrometheus>>;
  let classic: Awaited<ReturnType<typeof startPrometheus>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    metricsPort = await freePort();
    app = await startApp('esm-app.mjs', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    });
    let n = 0;
    load = setInterval(() => {
      n++;
      void fetch(`http://127.0.0.1:${app.port}/${n % 5 === 0 ? 'slow' : `items/${n}`}`).then((r) => r.text(), () => undefined);
    }, 10);
    [native, classic] = await Promise.all([
      startPrometheus([`127.0.0.1:${metricsPort}`], [], 'native', ['--enable-feature=native-histograms,exemplar-storage']),
      startPrometheus([`127.0.0.1:${metricsPort}`], [], 'classic'),
    ]);
  }, 60_000);

  afterAll(async () => {
    clearInterval(load);
    await Promise.all([native?.stop(), classic?.stop()]);
    await app?.stop();
    await receiver?.close();
  });

  it('with native histograms on, histogram_quantile answers from the native histogram', async () => {
    let answer: Vector = [];
    await waitFor(
      async () => {
        answer = await instant(native.url, 'histogram_quantile(0.99, sum(rate(http_server_request_duration_seconds[1m])))');
        return answer.length === 1 && Number.isFinite(Number(answer[0]!.value![1]));
      },
      30_000,
      () => `${JSON.stringify(answer)}\n${native.output()}`,
    );
    const p99 = Number(answer[0]!.value![1]);
    // /slow answers after 150 ms: the 99th percentile lies near it (native buckets are ~9 % wide).
    expect(p99).toBeGreaterThan(0.1);
    expect(p99).toBeLessThan(0.5);
    // The series itself is a native histogram (the API returns it under "histogram"), not classic buckets.
    const series = await instant(native.url, 'http_server_request_duration_seconds{http_route="/items/:id"}');
    expect(series.length).toBeGreaterThan(0);
    expect(series[0]!.histogram).toBeDefined();
    expect(await instant(native.url, 'http_server_request_duration_seconds_bucket')).toHaveLength(0);
  }, 40_000);

  it('exemplars name traces that the OTLP receiver got', async () => {
    let found: ExemplarSeries = [];
    await waitFor(
      async () => {
        found = await exemplars(native.url, 'http_server_request_duration_seconds');
        return found.some((series) => series.exemplars.length > 0);
      },
      30_000,
      () => `${JSON.stringify(found)}\n${native.output()}`,
    );
    const traceIds = found.flatMap((series) => series.exemplars.map((exemplar) => exemplar.labels.trace_id!));
    expect(traceIds.length).toBeGreaterThan(0);
    for (const exemplar of found.flatMap((series) => series.exemplars)) expect(exemplar.labels.span_id).toMatch(/^[0-9a-f]{16}$/);
    await waitFor(async () => traceIds.every((id) => receiver.spans.some((span) => span.traceId === id)), 15_000, () => `${traceIds.join(',')} not all received`);
  }, 50_000);

  it('with the flags off, the classic buckets answer', async () => {
    let answer: Vector = [];
    await waitFor(
      async () => {
        answer = await instant(classic.url, 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[1m])))');
        return answer.length === 1 && Number.isFinite(Number(answer[0]!.value![1]));
      },
      30_000,
      () => `${JSON.stringify(answer)}\n${classic.output()}`,
    );
    const p99 = Number(answer[0]!.value![1]);
    expect(p99).toBeGreaterThan(0.1);
    expect(p99).toBeLessThanOrEqual(0.25);
  }, 40_000);
});
