/**
 * Cuts long synchronous work (a collection or a serialization of many series) into slices of at
 * most `sliceMs`, giving the event loop back between slices, so the app's requests are never held
 * for the whole of it. Call {@link TimeSlicer.due} often (it is cheap: it reads the clock only every
 * `checkEvery`-th call; use 1 where each unit of work is large) and `await pause()` when it says so.
 */
export class TimeSlicer {
  private sliceStart = performance.now();
  private calls = 0;

  constructor(
    private readonly sliceMs = 10,
    private readonly checkEvery = 64,
  ) {}

  /** Whether the current slice has used its time. */
  due(): boolean {
    if (++this.calls < this.checkEvery) return false;
    this.calls = 0;
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Gives the event loop a turn, then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}
