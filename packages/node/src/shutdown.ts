import { describeError, reportOnce } from '@otelkit/core';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Flushes telemetry when the process is asked to stop, without taking over the stop:
 * on SIGTERM or SIGINT, `flush` runs, bounded by `timeoutMs`. Then, if the app has its own listener
 * for that signal, the app decides when to exit (its listeners ran as usual); if not, the signal is
 * raised again with our listener gone, so Node's default behaviour (exit by that signal) happens.
 *
 * @returns a function that removes the listeners.
 */
export function flushOnSignals(flush: () => Promise<void>, timeoutMs: number): () => void {
  const listeners = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    listeners.clear();
  };
  for (const signal of SIGNALS) {
    const listener = (): void => {
      remove();
      const appHandlesSignal = process.listenerCount(signal) > 0;
      withTimeout(flush(), timeoutMs)
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
