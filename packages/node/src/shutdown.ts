import { describeError, reportOnce } from '@otelkit/core';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Flushes telemetry when the process is asked to stop, without taking over the stop. On SIGTERM or
 * SIGINT:
 * - if the app has its own listener for that signal, the app decides when to exit (its listeners run
 *   as usual): buffered telemetry is flushed now (`flush`), and everything keeps running, so a
 *   draining app still records spans and metrics and its probes and scrapes are answered; the app calls
 *   `shutdown()` before it exits;
 * - if not, `stop` (flush and shut down) runs, bounded by `timeoutMs`, then the signal is raised again
 *   with our listener gone, so Node's default behaviour (exit by that signal) happens.
 *
 * @returns a function that removes the listeners.
 */
export function flushOnSignals(flush: () => Promise<void>, stop: () => Promise<void>, timeoutMs: number): () => void {
  const listeners = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    listeners.clear();
  };
  for (const signal of SIGNALS) {
    const listener = (): void => {
      // Only this signal's listener goes: a later SIGINT after an app-handled SIGTERM still flushes.
      process.removeListener(signal, listener);
      listeners.delete(signal);
      const appHandlesSignal = process.listenerCount(signal) > 0;
      withTimeout(appHandlesSignal ? flush() : stop(), timeoutMs)
        .catch((error: unknown) => reportOnce('shutdown.flush', `flush on ${signal} failed: ${describeError(error)}`))
        .finally(() => {
          if (!appHandlesSignal && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  return remove;
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
export function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      reportOnce('shutdown.timeout', `telemetry flush did not finish within ${ms} ms; continuing`);
      resolve();
    }, ms);
  });
  return Promise.race([promise.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
