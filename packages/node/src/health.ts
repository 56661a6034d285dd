import type { ReadinessCheck, ReadinessResult } from '@otelkit/core';
import { describeError, reportOnce } from '@otelkit/core';

/** Options of one readiness check. */
export type ReadinessCheckOptions = {
  /** How long the check may take before it counts as failed. @default OTELKIT_HEALTH_CHECK_TIMEOUT_MS (2000) */
  timeoutMs?: number;
};

/** One check's outcome in the health endpoints' JSON body. */
export type CheckReport = {
  name: string;
  ready: boolean;
  /** Why it failed (error message, `timed out after N ms`) or the check's own detail. */
  detail?: string;
  /** How long the check took, in milliseconds. */
  latencyMs: number;
};

/** The JSON body of `/health/ready` and `/health/startup`. */
export type HealthReport = {
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: CheckReport[];
};

type Registered = { check: ReadinessCheck; timeoutMs: number | undefined };

/**
 * Readiness checks with Kubernetes probe semantics:
 * - live: the process answers (always 200 while it runs);
 * - ready: every check passes within its timeout (else 503 with each check's result and latency);
 *   also 503 once shutdown has begun, so traffic drains;
 * - startup: 200 once every check has passed at least once, then always.
 */
export class HealthRegistry {
  private readonly checks = new Map<string, Registered>();
  private started = false;
  private shuttingDown = false;

  /** Timeout of checks added without one; `start()` sets it from the configuration. */
  defaultTimeoutMs = 2000;

  add(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): void {
    if (typeof name !== 'string' || name === '' || typeof check !== 'function') {
      reportOnce(`health.bad-check.${String(name)}`, 'addReadinessCheck(name, check) needs a non-empty name and a function; ignored');
      return;
    }
    this.checks.set(name, { check, timeoutMs: options.timeoutMs });
  }

  remove(name: string): boolean {
    return this.checks.delete(name);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Back to serving (a `start()` after a `shutdown()`): readiness reflects the checks again. */
  markRunning(): void {
    this.shuttingDown = false;
  }

  async readiness(): Promise<HealthReport> {
    const checks = await Promise.all([...this.checks].map(([name, { check, timeoutMs }]) => runCheck(name, check, timeoutMs ?? this.defaultTimeoutMs)));
    const ready = checks.every((check) => check.ready);
    if (ready) this.started = true;
    return { status: this.shuttingDown ? 'shutting_down' : ready ? 'ready' : 'not_ready', checks };
  }

  async startup(): Promise<HealthReport> {
    if (this.started) return { status: 'ready', checks: [] };
    return this.readiness();
  }
}

async function runCheck(name: string, check: ReadinessCheck, timeoutMs: number): Promise<CheckReport> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<ReadinessResult>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
    });
    const outcome = await Promise.race([Promise.resolve().then(check), timeout]);
    const result: ReadinessResult = typeof outcome === 'boolean' ? { ready: outcome } : normalize(outcome);
    return { name, ...result, latencyMs: round(performance.now() - start) };
  } catch (error) {
    return { name, ready: false, detail: describeError(error), latencyMs: round(performance.now() - start) };
  } finally {
    clearTimeout(timer);
  }
}

function normalize(outcome: unknown): ReadinessResult {
  if (typeof outcome === 'object' && outcome !== null && typeof (outcome as ReadinessResult).ready === 'boolean') {
    const { ready, detail } = outcome as ReadinessResult;
    return detail === undefined ? { ready } : { ready, detail: String(detail) };
  }
  return { ready: false, detail: 'check returned neither a boolean nor { ready }' };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
