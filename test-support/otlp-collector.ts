import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import protobuf from 'protobufjs';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'node', 'test', 'fixtures', 'otlp-proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

/**
 * How the collector answers:
 * - `ok`: 200 with an empty ExportTraceServiceResponse;
 * - `blackhole`: reads the request, never answers (the socket stays open until the client gives up);
 * - `status`: that HTTP status, with `Retry-After` when given;
 * - `slow`: answers 200 after `delayMs`;
 * - `huge`: 200 with a body of `bytes` bytes, streamed;
 * - `gzip-bomb`: 200 with `Content-Encoding: gzip` and `body`, small but inflating to far more ({@link buildGzipBomb});
 * - `partial`: 200 with `partial_success.rejected_spans` = min(rejected, spans in the request).
 */
export type CollectorMode =
  | { kind: 'ok' }
  | { kind: 'blackhole' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'huge'; bytes: number }
  | { kind: 'gzip-bomb'; body: Buffer }
  | { kind: 'partial'; rejected: number };

export type FakeCollector = {
  url: string;
  /** Set by whoever stopped it (a test flapping a collector). */
  stopped?: boolean;
  /** Spans in requests answered 200 (the ones the collector accepted, rejected ones included). */
  spansAccepted: number;
  /** Spans in every request received, whatever the answer. */
  spansReceived: number;
  /** Requests by path, in arrival order, with the time (ms, performance.now()) they arrived. */
  requests: Array<{ path: string; at: number; spans: number }>;
  /** Open TCP connections now, and the most seen at once. */
  openSockets: () => number;
  maxOpenSockets: number;
  setMode(mode: CollectorMode): void;
  /** Closes at once: open sockets are destroyed, requests in progress get no answer. */
  close(): Promise<void>;
  /** Goes away as a collector that is shut down does: no new connections, requests in progress answered. */
  stop(): Promise<void>;
};

/**
 * A local OTLP/HTTP collector for fault tests: decodes trace requests with the official OTLP protos
 * (counting spans), and answers as `mode` says; the mode can change while it runs.
 */
export async function startFakeCollector(initial: CollectorMode = { kind: 'ok' }, port = 0): Promise<FakeCollector> {
  let mode = initial;
  const sockets = new Set<Socket>();
  const collector: FakeCollector = {
    url: '',
    spansAccepted: 0,
    spansReceived: 0,
    requests: [],
    openSockets: () => sockets.size,
    maxOpenSockets: 0,
    setMode(next) {
      mode = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
  const server = createServer((req, res) => void answer(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    collector.maxOpenSockets = Math.max(collector.maxOpenSockets, sockets.size);
    socket.once('close', () => sockets.delete(socket));
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0]!;
    let spans = 0;
    if (path === '/v1/traces') spans = countSpans(Buffer.concat(chunks), req.headers['content-type'] ?? '');
    collector.spansReceived += spans;
    collector.requests.push({ path, at: performance.now(), spans });
    const current = mode;
    switch (current.kind) {
      case 'blackhole':
        return;
      case 'status':
        res.writeHead(current.status, current.retryAfter !== undefined ? { 'retry-after': current.retryAfter } : {});
        res.end();
        return;
      case 'slow':
        setTimeout(() => {
          collector.spansAccepted += spans;
          ok(res);
        }, current.delayMs);
        return;
      case 'huge':
        collector.spansAccepted += spans;
        streamZeros(res, current.bytes);
        return;
      case 'gzip-bomb': {
        collector.spansAccepted += spans;
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'content-length': current.body.length });
        res.end(current.body);
        return;
      }
      case 'partial': {
        collector.spansAccepted += spans;
        const rejected = Math.min(current.rejected, spans);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(TraceResponse.encode(TraceResponse.create({ partialSuccess: { rejectedSpans: rejected, errorMessage: 'spans too old' } })).finish());
        return;
      }
      case 'ok':
        collector.spansAccepted += spans;
        ok(res);
    }
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return collector;
}

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-protobuf' });
  res.end(TraceResponse.encode(TraceResponse.create({})).finish());
}

/** Writes `bytes` zero bytes in 1 MiB chunks, respecting back-pressure, stopping if the client goes. */
function streamZeros(res: ServerResponse, bytes: number): void {
  const chunk = Buffer.alloc(1024 * 1024);
  res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': bytes });
  let left = bytes;
  const write = (): void => {
    while (left > 0 && !res.destroyed) {
      const size = Math.min(left, chunk.length);
      left -= size;
      if (!res.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        res.once('drain', write);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => undefined);
  write();
}

function countSpans(body: Buffer, contentType: string): number {
  try {
    const message = (
      contentType.includes('json') ? JSON.parse(body.toString('utf8')) : TraceRequest.toObject(TraceRequest.decode(body), { longs: String, bytes: String })
    ) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
    let spans = 0;
    for (const resourceSpans of message.resourceSpans ?? []) for (const scopeSpans of resourceSpans.scopeSpans ?? []) spans += scopeSpans.spans?.length ?? 0;
    return spans;
  } catch {
    return 0;
  }
}

/** A gzip body that inflates to `inflatedBytes` zero bytes (deflated in 1 MiB steps, never held inflated). */
export async function buildGzipBomb(inflatedBytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = inflatedBytes; left > 0; left -= chunk.length) {
    if (!gzip.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(parts);
}
