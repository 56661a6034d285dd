import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startDemo } from '../../test-support/demo-and-prometheus.js';
import { startFakeCollector, type FakeCollector } from '../../test-support/otlp-collector.js';
import { startLoad } from '../../examples/demo-service/src/load.js';
import { eventually, RELIABILITY_FIXTURES, scrape, spanAccounting } from './support.js';

/*
 * The soak: the demo under ~200 requests/s through its routes for SOAK_SECONDS (default 300), its
 * OTLP collector going away for 30 s every 30 s. At the end the heap is flat and every span is
 * accounted for: the collector's count equals the exporter's, and the self-metrics balance exactly.
 */

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const FLAP_MS = 30_000;
const WARM_UP_MS = 60_000;
const RATE = 200;

/** Least-squares slope of (ms, bytes) points, in MB per minute. */
function slopeMbPerMinute(points: Array<[number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  }
  return (num / den) * 60_000 / (1024 * 1024);
}

describe('soak', () => {
  it(`${SOAK_SECONDS} s at ~${RATE} req/s with the collector flapping every 30 s: flat heap, every span accounted for`, async () => {
    const collectorPort = await freePort();
    const generations: FakeCollector[] = [];
    const up = async (): Promise<void> => {
      generations.push(await startFakeCollector({ kind: 'ok' }, collectorPort));
    };
    await up();
    const demo = await startDemo({
      DEMO_LOAD: '0',
      DEMO_SUMMARY_SECONDS: '0',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '1000',
      NODE_OPTIONS: `--expose-gc --require ${join(RELIABILITY_FIXTURES, 'heap-probe.cjs')}`,
    });
    const stopLoad = startLoad(`http://127.0.0.1:${demo.appPort}`, RATE);
    const started = performance.now();
    let flaps = 0;
    try {
      while (performance.now() - started < SOAK_SECONDS * 1000) {
        await new Promise((resolve) => setTimeout(resolve, FLAP_MS));
        if (performance.now() - started >= SOAK_SECONDS * 1000) break;
        const current = generations.at(-1)!;
        if (current.url && !current.stopped) {
          await current.stop();
          current.stopped = true;
          flaps++;
        } else {
          await up();
        }
      }
      if (generations.at(-1)!.stopped) await up();
      stopLoad();
      // Quiet: nothing live, queued or in flight (the last batch is exported within the schedule delay).
      const accounting = await eventually(async () => {
        const now = spanAccounting(await scrape(demo));
        return now.live === 0 && now.queued === 0 && now.inflight === 0 ? now : undefined;
      }, 30_000, 250);
      const received = generations.reduce((sum, collector) => sum + collector.spansAccepted, 0);
      const heap = [...demo.output().matchAll(/^HEAP (\d+) (\d+)$/gm)].map((match) => [Number(match[1]), Number(match[2])] as [number, number]);
      const afterWarmUp = heap.filter(([ms]) => ms >= WARM_UP_MS);
      const slope = slopeMbPerMinute(afterWarmUp);
      console.log(
        `soak: ${((performance.now() - started) / 1000).toFixed(0)} s, ${flaps} collector outages; spans started ${accounting.started}, ` +
          `exported ${accounting.exported}, dropped ${accounting.dropped}, failed ${accounting.failed}; collector received ${received}; ` +
          `heap ${(afterWarmUp[0]![1] / 1048576).toFixed(1)} → ${(afterWarmUp.at(-1)![1] / 1048576).toFixed(1)} MB, slope ${slope.toFixed(3)} MB/min over ${afterWarmUp.length} readings`,
      );
      expect(flaps).toBeGreaterThanOrEqual(Math.floor(SOAK_SECONDS / 60) - 1);
      expect(received).toBeGreaterThan(0);
      expect(received).toBe(accounting.exporterExported);
      expect(accounting.exported).toBe(accounting.exporterExported);
      expect(accounting.failed).toBeGreaterThan(0);
      expect(accounting.started).toBe(accounting.exported + accounting.dropped + accounting.failed + accounting.queued + accounting.live + accounting.inflight);
      expect(afterWarmUp.length).toBeGreaterThanOrEqual(3);
      expect(slope).toBeLessThan(1);
      expect(demo.output()).not.toMatch(/Unhandled|uncaught/i);
    } finally {
      stopLoad();
      await demo.stop();
      for (const collector of generations) await collector.close();
    }
  }, (SOAK_SECONDS + 120) * 1000);
});
