import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The demo service's folder (built with `npm run build` before tests run). */
export const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'demo-service');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Process = { child: ChildProcess; output: () => string; stop: () => Promise<void> };

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Process {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts the built demo exactly as `npm run demo` does, with the preload and its load mode. */
export async function startDemo(env: Record<string, string>): Promise<Process & { appPort: number; metricsPort: number }> {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const demo = run(process.execPath, ['--import', '@otelkit/node/register', 'dist/main.js'], {
    cwd: DEMO_DIR,
    env: { PORT: String(appPort), OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), DEMO_LOAD: '40', ...env },
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${appPort}/`)).ok, 15_000, () => demo.output());
  return { ...demo, appPort, metricsPort };
}

/** Starts a real Prometheus server on loopback scraping `targets` every second, as job `jobName`. */
export async function startPrometheus(
  targets: string[],
  ruleFiles: string[] = [],
  jobName = 'demo',
  /** Extra command-line flags, e.g. `--enable-feature=native-histograms,exemplar-storage`. */
  flags: string[] = [],
): Promise<Process & { url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'otelkit-prom-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(ruleFiles.length ? ['rule_files:', ...ruleFiles.map((file) => `  - ${JSON.stringify(file)}`)] : []),
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(jobName)}`,
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const prometheus = run(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...flags],
    { cwd: dir },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, 20_000, () => prometheus.output());
  return {
    ...prometheus,
    url,
    stop: async () => {
      await prometheus.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs an instant PromQL query and returns its vector result. */
export async function query(url: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query failed: ${promql}: ${body.error}`);
  return body.data.result;
}

export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
