import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ChildAgent } from '../src/processes/agent.js';
import { ProcessGroup } from '../src/processes/group.js';
import type { ChildMessage, ParentMessage } from '../src/processes/protocol.js';
import { SnapshotMerger, toSnapshot, WORKER_ATTRIBUTE, type Snapshot } from '../src/processes/snapshot.js';

// The arithmetic of several processes' metrics in one aggregate (snapshot.ts, group.ts), with
// hand-built snapshots; the processes themselves are in processes.test.ts.

const SUM = 3;
const GAUGE = 2;
const HISTOGRAM = 0;
const T0: [number, number] = [100, 0];
const T1: [number, number] = [200, 0];

function point<T>(value: T, attributes: Record<string, string> = {}): DataPoint<T> {
  return { startTime: T0, endTime: T1, attributes, value };
}

function metric(name: string, dataPointType: number, dataPoints: DataPoint<number | Histogram>[], isMonotonic = true): MetricData {
  return {
    descriptor: { name, description: '', unit: '', valueType: 1, type: 'COUNTER' },
    aggregationTemporality: 1,
    dataPointType,
    isMonotonic,
    dataPoints,
  } as unknown as MetricData;
}

function histogram(counts: number[], sum: number, min: number, max: number, boundaries = [1, 2]): Histogram {
  return { buckets: { boundaries, counts }, count: counts.reduce((a, b) => a + b, 0), sum, min, max };
}

function snapshot(...metrics: MetricData[]): Snapshot {
  return { scopes: [{ scope: { name: 'test', version: '1' }, metrics }] };
}

/** A process's metrics: `requests` counter, `active` up-down counter, `uptime` and `cache.entries` gauges, `latency` histogram. */
function processSnapshot(requests: number, active: number, uptime: number, entries: number, latency: Histogram): Snapshot {
  return snapshot(
    metric('requests', SUM, [point(requests, { route: '/a' })]),
    metric('active', SUM, [point(active)], false),
    metric('uptime', GAUGE, [point(uptime)]),
    metric('cache.entries', GAUGE, [point(entries, { 'cache.name': 'users' })]),
    metric('latency', HISTOGRAM, [point(latency)]),
  );
}

function points(result: Snapshot, name: string): Array<DataPoint<number | Histogram>> {
  return (result.scopes.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name)?.dataPoints ?? []) as Array<DataPoint<number | Histogram>>;
}

const combine = (name: string): 'sum' | undefined => (name === 'cache.entries' ? 'sum' : undefined);

describe('SnapshotMerger', () => {
  it('carries NaN and infinities across JSON (the IPC and socket encoding) and leaves malformed points out', () => {
    const collection = { resource: {}, scopeMetrics: snapshot(metric('ratio', GAUGE, [point(Number.NaN)]), metric('latency', HISTOGRAM, [point(histogram([1, 0, 0], Number.POSITIVE_INFINITY, 1, 1))])).scopes } as never;
    const sent = JSON.parse(JSON.stringify(toSnapshot(collection))) as Snapshot;
    const broken = JSON.parse(JSON.stringify(snapshot(metric('requests', SUM, [point(null as unknown as number)]), metric('ok', SUM, [point(3)]))));
    const merged = new SnapshotMerger(combine).add(sent, 'all', '1').add(broken, 'all', '2').result();
    expect(points(merged, 'ratio')[0]!.value).toBeNaN();
    expect((points(merged, 'latency')[0]!.value as Histogram).sum).toBe(Number.POSITIVE_INFINITY);
    expect(points(merged, 'requests')).toEqual([]);
    expect(points(merged, 'ok')[0]!.value).toBe(3);
  });

  it('sums counters, up-down counters and histograms per attribute set; gauges one series per worker unless summed', () => {
    const a = processSnapshot(10, 2, 50, 3, histogram([1, 2, 3], 9, 0.5, 4));
    const b = processSnapshot(5, 1, 20, 4, histogram([0, 1, 1], 5, 1.5, 7));
    const merged = new SnapshotMerger(combine).add(a, 'all', '1').add(b, 'all', '2').result();
    expect(points(merged, 'requests').map((p) => [p.attributes, p.value])).toEqual([[{ route: '/a' }, 15]]);
    expect(points(merged, 'active').map((p) => p.value)).toEqual([3]);
    expect(points(merged, 'uptime').map((p) => [p.attributes[WORKER_ATTRIBUTE], p.value])).toEqual([
      ['1', 50],
      ['2', 20],
    ]);
    expect(points(merged, 'cache.entries').map((p) => [p.attributes, p.value])).toEqual([[{ 'cache.name': 'users' }, 7]]);
    expect(points(merged, 'latency')[0]!.value).toEqual({ buckets: { boundaries: [1, 2], counts: [1, 3, 4] }, count: 8, sum: 14, min: 0.5, max: 7 });
    // The inputs are untouched (they are kept as the workers' last answers).
    expect(points(a, 'requests')[0]!.value).toBe(10);
    expect((points(a, 'latency')[0]!.value as Histogram).buckets.counts).toEqual([1, 2, 3]);
  });

  it('takes only counters and histograms of a monotonic part', () => {
    const merged = new SnapshotMerger(combine).add(processSnapshot(10, 2, 50, 3, histogram([1, 0, 0], 1, 1, 1)), 'monotonic', '1').result();
    expect(merged.scopes[0]!.metrics.map((m) => m.descriptor.name).sort()).toEqual(['latency', 'requests']);
  });

  it('nests worker labels (a worker process and its threads)', () => {
    const inner = new SnapshotMerger(combine).add(snapshot(metric('uptime', GAUGE, [point(1)])), 'all', 'thread-2').result();
    const outer = new SnapshotMerger(combine).add(inner, 'all', '3').result();
    expect(points(outer, 'uptime')[0]!.attributes[WORKER_ATTRIBUTE]).toBe('3/thread-2');
  });

  it('keeps the first buckets when boundaries differ and leaves the other point out', () => {
    const a = snapshot(metric('latency', HISTOGRAM, [point(histogram([1, 1, 1], 3, 1, 1))]));
    const b = snapshot(metric('latency', HISTOGRAM, [point(histogram([5, 5], 3, 1, 1, [10]))]));
    const merged = new SnapshotMerger(combine).add(a, 'all').add(b, 'all').result();
    expect((points(merged, 'latency')[0]!.value as Histogram).count).toBe(3);
  });
});

/** A group of in-memory children answering with whatever snapshot they hold. */
function groupWith(children: Record<string, { snapshot: Snapshot; answers: boolean; ready?: boolean }>) {
  const group = new ProcessGroup(combine);
  for (const [key, child] of Object.entries(children)) {
    const agent = new ChildAgent((message: ChildMessage) => group.receive(key, message, channel), {
      snapshot: async () => child.snapshot,
      ready: async () => child.ready ?? true,
    });
    const channel = { send: (message: ParentMessage) => (child.answers ? agent.receive(message) : undefined) };
    agent.hello(`uid-${key}`, key, false);
  }
  return group;
}

const own = processSnapshot(1, 0, 9, 0, histogram([1, 0, 0], 0.5, 0.5, 0.5));

describe('ProcessGroup', () => {
  it('aggregates the parent and its children', async () => {
    const children = { a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)), answers: true } };
    const group = groupWith(children);
    const { merged } = await group.collect(async () => own, 'primary', 100);
    expect(points(merged, 'requests')[0]!.value).toBe(11);
    expect(points(merged, 'uptime').map((p) => p.attributes[WORKER_ATTRIBUTE])).toEqual(['primary', 'a']);
  });

  it('keeps a departed child in the ledger: counters never go back, its gauges go', async () => {
    const children = { a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([2, 0, 0], 1, 1, 1)), answers: true } };
    const group = groupWith(children);
    await group.collect(async () => own, 'primary', 100);
    group.leave('a');
    const { merged } = await group.collect(async () => own, 'primary', 100);
    expect(points(merged, 'requests')[0]!.value).toBe(11);
    expect((points(merged, 'latency')[0]!.value as Histogram).count).toBe(3);
    expect(points(merged, 'active')[0]!.value).toBe(0);
    expect(points(merged, 'uptime').map((p) => p.attributes[WORKER_ATTRIBUTE])).toEqual(['primary']);
  });

  it('uses the final counts of a child that says bye after its exit was seen', async () => {
    const children = { a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)), answers: true } };
    const group = groupWith(children);
    await group.collect(async () => own, 'primary', 100);
    group.depart('a', 60_000, true);
    group.receive('a', { t: 'bye', snapshot: processSnapshot(25, 0, 6, 0, histogram([1, 0, 0], 1, 1, 1)) }, { send: () => {} });
    const { merged } = await group.collect(async () => own, 'primary', 100);
    expect(points(merged, 'requests')[0]!.value).toBe(26);
  });

  it('counts a silent child with its last counters, without its gauges, within the deadline', async () => {
    const children = { a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)), answers: true } };
    const group = groupWith(children);
    await group.collect(async () => own, 'primary', 100);
    children.a.answers = false;
    children.a.snapshot = processSnapshot(99, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1));
    const started = performance.now();
    const { merged } = await group.collect(async () => own, 'primary', 100);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(points(merged, 'requests')[0]!.value).toBe(11);
    expect(points(merged, 'active')[0]!.value).toBe(0);
    expect(points(merged, 'uptime')).toHaveLength(1);
  });

  it('hands its heir to a successor that adopts it', async () => {
    const group = groupWith({ a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)), answers: true } });
    await group.collect(async () => own, 'primary', 100);
    group.leave('a');
    const heir = group.heir(own);
    const successor = new ProcessGroup(combine);
    successor.adopt(heir);
    expect(successor.active).toBe(true);
    const { merged } = await successor.collect(async () => snapshot(), 'next', 100);
    expect(points(merged, 'requests')[0]!.value).toBe(11);
  });

  it('reports how many children are ready; one that does not answer is not', async () => {
    const group = groupWith({
      a: { snapshot: snapshot(), answers: true, ready: true },
      b: { snapshot: snapshot(), answers: true, ready: false },
      c: { snapshot: snapshot(), answers: false },
    });
    expect(await group.readiness(50)).toEqual({ ready: 1, total: 3 });
  });

  it('gives per-worker children the lowest free slot, and a departed one its slot back', () => {
    const group = new ProcessGroup(combine);
    const slots: Record<string, number> = {};
    const join = (key: string) =>
      group.receive(key, { t: 'hello', uid: key, label: key, wantsSlot: true }, { send: (m) => void (m.t === 'slot' && (slots[key] = m.index)) });
    join('w1');
    join('w2');
    join('w3');
    // A disconnected worker still holds its port; an exited one does not.
    group.depart('w2', 60_000, false);
    join('w4');
    group.depart('w3', 60_000, true);
    join('w5');
    expect(slots).toEqual({ w1: 1, w2: 2, w3: 3, w4: 4, w5: 3 });
    // Children with their own port are not aggregated, even their final counts.
    group.receive('w1', { t: 'bye', snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)) }, { send: () => {} });
    expect(group.active).toBe(false);
  });

  it('gives a child that comes back (same uid) its counts back out of the ledger', async () => {
    const group = new ProcessGroup(combine);
    const answer = (key: string, uid: string, requests: number) => {
      const agent = new ChildAgent((message) => group.receive(key, message, channel), {
        snapshot: async () => processSnapshot(requests, 0, 1, 0, histogram([1, 0, 0], 1, 1, 1)),
        ready: async () => true,
      });
      const channel = { send: (message: ParentMessage) => agent.receive(message) };
      agent.hello(uid, 'x', false);
    };
    answer('s1', 'same-process', 10);
    await group.collect(async () => snapshot(), 'hub', 100);
    group.depart('s1', 0, true);
    group.leave('s1');
    expect(points((await group.collect(async () => snapshot(), 'hub', 100)).merged, 'requests')[0]!.value).toBe(10);
    // Reconnected under a new key, it reports its whole history (12 now) itself: 12, not 22.
    answer('s2', 'same-process', 12);
    expect(points((await group.collect(async () => snapshot(), 'hub', 100)).merged, 'requests')[0]!.value).toBe(12);
  });

  it('labels two live children that claim the same label apart, so their gauges are never summed', async () => {
    const group = new ProcessGroup(combine);
    for (const key of ['w1', 'w2']) {
      const agent = new ChildAgent((message) => group.receive(key, message, channel), { snapshot: async () => snapshot(metric('uptime', GAUGE, [point(5)])), ready: async () => true });
      const channel = { send: (message: ParentMessage) => agent.receive(message) };
      agent.hello(`uid-${key}`, '0', false);
    }
    const { merged } = await group.collect(async () => snapshot(), 'primary', 100);
    expect(points(merged, 'uptime').map((p) => [p.attributes[WORKER_ATTRIBUTE], p.value])).toEqual([
      ['0', 5],
      ['0~w2', 5],
    ]);
  });

  it('forgets a child that said bye once it has exited, and never counts it twice', async () => {
    const group = groupWith({ a: { snapshot: processSnapshot(10, 1, 5, 1, histogram([1, 0, 0], 1, 1, 1)), answers: true } });
    group.receive('a', { t: 'bye', snapshot: processSnapshot(12, 0, 6, 0, histogram([1, 0, 0], 1, 1, 1)) }, { send: () => {} });
    group.depart('a', 60_000, true);
    expect(group.size).toBe(0);
    const { merged } = await group.collect(async () => own, 'primary', 100);
    expect(points(merged, 'requests')[0]!.value).toBe(13);
  });

  it("never gives a child the parent's own label", async () => {
    const group = new ProcessGroup(combine, { ownLabel: '0' });
    const agent = new ChildAgent((message) => group.receive('s1', message, channel), { snapshot: async () => snapshot(metric('uptime', GAUGE, [point(5)])), ready: async () => true });
    const channel = { send: (message: ParentMessage) => agent.receive(message) };
    agent.hello('uid-s1', '0', false);
    const { merged } = await group.collect(async () => snapshot(metric('uptime', GAUGE, [point(7)])), '0', 100);
    expect(points(merged, 'uptime').map((p) => [p.attributes[WORKER_ATTRIBUTE], p.value])).toEqual([
      ['0', 7],
      ['0~s1', 5],
    ]);
  });
});
