import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, reportOnce } from '@otelkit/core';
import type { HealthRegistry, HealthReport } from './health.js';
import type { ScrapeResponse } from './prometheus/exposition.js';

/** Path of the Prometheus endpoint. */
export const METRICS_PATH = '/metrics';
/** Paths of the health endpoints. */
export const HEALTH_PATHS = Object.freeze({ live: '/health/live', ready: '/health/ready', startup: '/health/startup' });

const OWN_PATHS = new Set<string>([METRICS_PATH, HEALTH_PATHS.live, HEALTH_PATHS.ready, HEALTH_PATHS.startup]);

/** Whether a request targets one of otelkit's endpoints (such requests are not counted as app traffic). */
export function isOtelkitPath(url: string | undefined): boolean {
  // Every request pays this: compare in place instead of cutting the query string off a copy.
  if (!url) return false;
  for (const path of OWN_PATHS) {
    if (url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */)) return true;
  }
  return false;
}

/**
 * A node:http-style handler; with express use it as a route handler, with fastify pass
 * `request.raw`/`reply.raw` after `reply.hijack()`.
 */
export type NodeRequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** Answers a scrape from its `Accept` and `Accept-Encoding` headers (see `PrometheusExposition`). */
export type ScrapeResponder = (accept: string | undefined, acceptEncoding: string | undefined) => Promise<ScrapeResponse>;

/**
 * Serves `/metrics`: the format negotiated from `Accept` (protobuf, OpenMetrics, text 1.0.0 or 0.0.4),
 * gzipped when `Accept-Encoding` allows it, with a `Content-Type` that says exactly what was sent.
 */
export function metricsHandler(respond: ScrapeResponder): NodeRequestHandler {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'method not allowed\n');
    respond(request.headers.accept, request.headers['accept-encoding'] as string | undefined).then(
      (answer) => {
        const headers: Record<string, string> = { 'content-type': answer.contentType, 'cache-control': 'no-store', vary: 'Accept, Accept-Encoding' };
        if (answer.gzip) headers['content-encoding'] = 'gzip';
        sendBytes(response, answer.status, headers, request.method === 'HEAD' ? undefined : answer.body);
      },
      (error: unknown) => {
        reportOnce('metrics.scrape', `a /metrics scrape failed: ${describeError(error)}`);
        send(response, 500, 'text/plain', '# metrics collection failed\n');
      },
    );
  };
}

/** Serves `/health/live`, `/health/ready` and `/health/startup` from the registry, by path. */
export function healthHandler(health: HealthRegistry): NodeRequestHandler {
  return (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === HEALTH_PATHS.live) return sendJson(response, 200, { status: 'live' });
    if (path !== HEALTH_PATHS.ready && path !== HEALTH_PATHS.startup) return send(response, 404, 'text/plain', 'not found\n');
    const report = path === HEALTH_PATHS.startup ? health.startup() : health.readiness();
    report.then(
      (body: HealthReport) => sendJson(response, body.status === 'ready' ? 200 : 503, body),
      (error: unknown) => sendJson(response, 503, { status: 'not_ready', checks: [], error: describeError(error) }),
    );
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  try {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    response.end(body);
  } catch (error) {
    reportOnce('endpoints.send', `writing an otelkit endpoint response failed: ${describeError(error)}`);
  }
}

function sendBytes(response: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | undefined): void {
  try {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, body === undefined ? headers : { ...headers, 'content-length': String(body.length) });
    response.end(body);
  } catch (error) {
    reportOnce('endpoints.send', `writing an otelkit endpoint response failed: ${describeError(error)}`);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', JSON.stringify(body) + '\n');
}

/**
 * otelkit's own HTTP server (the metrics port): `/metrics` and the health endpoints. Binds to the
 * configured host, loopback by default. A failure to listen is reported, never thrown.
 */
export class EndpointServer {
  private server: Server | undefined;

  constructor(
    private readonly metrics: NodeRequestHandler | undefined,
    private readonly health: NodeRequestHandler,
  ) {}

  listen(host: string, port: number): Promise<AddressInfo | undefined> {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      reportOnce('endpoints.port', `the metrics/health port ${port} is out of range (0-65535); otelkit serves no endpoints`);
      return Promise.resolve(undefined);
    }
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path === METRICS_PATH && this.metrics) return this.metrics(request, response);
      if (path?.startsWith('/health/')) return this.health(request, response);
      send(response, 404, 'text/plain', 'not found\n');
    });
    this.server = server;
    // Scrapers keep connections alive: never let one of them keep the app alive (e.g. while it drains).
    server.on('connection', (socket) => socket.unref());
    return new Promise((resolve) => {
      server.once('error', (error) => {
        reportOnce('endpoints.listen', `the metrics/health server could not listen on ${host}:${port}: ${describeError(error)}`);
        resolve(undefined);
      });
      // Exclusive: a cluster worker binds the port itself instead of sharing one handle through the
      // primary (which would hand each scrape to a random worker, and keep the port after it died).
      server.listen({ port, host, exclusive: true }, () => {
        // Never keep the app alive on our account.
        server.unref();
        resolve(server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server || !server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  }
}
