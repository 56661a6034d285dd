import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './checks.js';

// promtool comes from Debian's `prometheus` package (.ci/run installs it).
function promtool(...args: string[]) {
  const result = spawnSync('promtool', args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ?? ''}` };
}

describe('Prometheus configuration, rules and alert unit tests (promtool)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'otelkit-promtool-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('checks prometheus.yml and the rule files it names', () => {
    const result = promtool('check', 'config', 'deploy/prometheus/prometheus.yml');
    expect(result.output).toMatch(/SUCCESS: 2 rule files found/);
    expect(result.status, result.output).toBe(0);
  });

  it('checks the recording and alert rules', () => {
    const result = promtool('check', 'rules', 'deploy/prometheus/rules/otelkit-recording.yml', 'deploy/prometheus/rules/otelkit-alerts.yml');
    expect(result.status, result.output).toBe(0);
  });

  it('passes the alert unit tests, which fire and do not fire every alert', () => {
    const result = promtool('test', 'rules', 'deploy/prometheus/tests/otelkit-alerts.test.yml');
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it('has a firing and a non-firing case for every alert', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const alerts = parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/rules/otelkit-alerts.yml'), 'utf8'));
    const names = new Set<string>(alerts.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)));
    const tests = parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/tests/otelkit-alerts.test.yml'), 'utf8'));
    const cases = tests.tests.flatMap((t: any) => t.alert_rule_test ?? []);
    for (const name of names) {
      const own = cases.filter((c: any) => c.alertname === name);
      expect(own.some((c: any) => c.exp_alerts.length > 0), `${name} fires`).toBe(true);
      expect(own.some((c: any) => c.exp_alerts.length === 0), `${name} stays quiet`).toBe(true);
    }
    for (const group of alerts.groups) {
      for (const rule of group.rules) {
        expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
        expect(rule.annotations?.runbook, rule.alert).toBeTruthy();
      }
    }
  });

  it('fails an alert unit test whose expectation is wrong (the unit tests can fail)', () => {
    const file = join(scratch, 'wrong.test.yml');
    writeFileSync(
      file,
      [
        'rule_files:',
        `  - ${JSON.stringify(join(REPO_ROOT, 'deploy/prometheus/rules/otelkit-alerts.yml'))}`,
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        `      - series: 'up{job="demo",instance="a:1"}'`,
        "        values: '1x5'",
        '    alert_rule_test:',
        '      - eval_time: 3m',
        '        alertname: OtelkitTargetDown',
        '        exp_alerts:',
        '          - exp_labels: { job: demo, instance: "a:1", severity: critical }',
        '',
      ].join('\n'),
    );
    const result = promtool('test', 'rules', file);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});
