import { describeError, handleWith, noopHandle, reportOnce } from '@otelkit/core';
import type { BreakerRecorder } from './recorder.js';
import type { BreakerHandle } from './types.js';

/** Handles made by this package, mapped to their recorder (for readiness checks on a handle). */
const recorderOfHandle = new WeakMap<BreakerHandle, BreakerRecorder>();

/** The recorder behind `handle`, if it is one of ours. */
export function recorderOf(handle: BreakerHandle): BreakerRecorder | undefined {
  return recorderOfHandle.get(handle);
}

/** Wraps `recorder` in a handle; `unbind()` runs `release` (listener removal) then closes the recorder. */
export function breakerHandle(recorder: BreakerRecorder, release: () => void): BreakerHandle {
  const handle: BreakerHandle = handleWith(
    () => {
      try {
        release();
      } finally {
        recorder.close();
      }
    },
    {
      name: recorder.name,
      get state() {
        return handle.bound ? recorder.state : undefined;
      },
    },
    (error) => reportOnce(`unbind:${recorder.name}`, `unbinding circuit breaker "${recorder.name}" failed: ${describeError(error)}`),
  );
  recorderOfHandle.set(handle, recorder);
  return handle;
}

/** A handle bound to nothing, for a bad argument. */
export function noopBreakerHandle(name = ''): BreakerHandle {
  const noop = noopHandle();
  return { name, bound: false, state: undefined, unbind: noop.unbind, [Symbol.dispose]: noop.unbind };
}
