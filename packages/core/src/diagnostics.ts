import { diag } from '@opentelemetry/api';

const reported = new Set<string>();

/**
 * Reports a problem through OpenTelemetry `diag` the first time `key` is seen, and stays quiet after
 * that: a bad input gets one clear line, not a line per call.
 *
 * @returns true when the message was written now.
 */
export function reportOnce(key: string, message: string): boolean {
  if (reported.has(key)) return false;
  reported.add(key);
  try {
    diag.warn(`otelkit: ${message}`);
  } catch {
    // A user's diag logger that throws must not turn our report into an exception in their code.
  }
  return true;
}

/**
 * Forgets which problems were reported, so the next `reportOnce` of each key writes again. For tests
 * that assert "exactly one diagnostic" whatever ran before them; not needed in applications.
 */
export function resetReportedProblems(): void {
  reported.clear();
}

/** Describes a thrown value in a diagnostic line without risking another throw. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

/**
 * Wraps a callback of ours (a listener, an observable callback) so nothing it throws reaches the
 * caller: the first failure for `key` is reported through `diag`, later ones are dropped.
 */
export function contain<A extends unknown[]>(key: string, callback: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      callback(...args);
    } catch (error) {
      reportOnce(key, `${key} failed and was ignored: ${describeError(error)}`);
    }
  };
}
