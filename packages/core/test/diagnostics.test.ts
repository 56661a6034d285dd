import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { reportOnce, resetReportedProblems } from '@otelkit/core';

function capture(): { lines: string[]; logger: DiagLogger } {
  const lines: string[] = [];
  const write = (message: string) => lines.push(message);
  return { lines, logger: { error: write, warn: write, info: write, debug: write, verbose: write } };
}

describe('reportOnce', () => {
  afterEach(() => diag.disable());

  it('writes a key once, and again after resetReportedProblems (for order-independent tests)', () => {
    const { lines, logger } = capture();
    diag.setLogger(logger, DiagLogLevel.WARN);
    expect(reportOnce('diagnostics.test.key', 'first')).toBe(true);
    expect(reportOnce('diagnostics.test.key', 'second')).toBe(false);
    expect(lines).toEqual(['otelkit: first']);
    resetReportedProblems();
    expect(reportOnce('diagnostics.test.key', 'third')).toBe(true);
    expect(lines).toEqual(['otelkit: first', 'otelkit: third']);
  });
});
