import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describeError, reportOnce } from '@otelkit/core';
import { setHttpRoute } from './http-server.js';

/** What fastify publishes on `fastify.initialization` when an instance is created (fastify 4.x, 5.x). */
type FastifyInitialization = { fastify?: { addHook?: (name: string, hook: FastifyOnRequest) => unknown } };
type FastifyOnRequest = (request: { routeOptions?: { url?: unknown }; routerPath?: unknown }, reply: unknown, done: () => void) => void;

const FASTIFY_CHANNEL = 'fastify.initialization';

/**
 * `http.route` for fastify apps with no code: every fastify instance announces itself on the
 * `fastify.initialization` diagnostics channel, where it gets an `onRequest` hook that sets the
 * request's route template (`request.routeOptions.url`, fastify 4.10+ and 5; `routerPath` before).
 * No module is patched, so ES-module and CommonJS apps are alike. A request no route matched (the 404
 * handler) gets no route.
 *
 * @returns a function that stops it (instances already hooked keep a hook that still only names routes).
 */
export function routesFromFastify(): () => void {
  const onRequest: FastifyOnRequest = (request, _reply, done) => {
    try {
      // routeOptions where fastify has it (reading routerPath there would print its deprecation warning).
      const route = request.routeOptions !== undefined ? request.routeOptions.url : request.routerPath;
      if (typeof route === 'string' && route.length > 0) setHttpRoute(route);
    } catch (error) {
      reportOnce('routes.fastify', `reading a fastify route failed: ${describeError(error)}`);
    }
    done();
  };
  const onInitialization = (message: unknown): void => {
    try {
      (message as FastifyInitialization).fastify?.addHook?.('onRequest', onRequest);
    } catch (error) {
      reportOnce('routes.fastify.hook', `fastify routes are not recorded: adding the onRequest hook failed: ${describeError(error)}`);
    }
  };
  subscribe(FASTIFY_CHANNEL, onInitialization);
  return () => unsubscribe(FASTIFY_CHANNEL, onInitialization);
}
