import { createRequire } from 'node:module';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { describeError, reportOnce, type ModuleBridge } from '@otelkit/core';
import { hookCommonJsLoadedFromEsm, requireHttpBuiltins } from './cjs-from-esm.js';
import { esmLoaderRegistered } from './esm-loader.js';
import { beforeFirstLoad } from './lazy-instrumentations.js';
import { hookModuleBridges } from './module-bridges.js';

const require = createRequire(import.meta.url);

/** @opentelemetry/instrumentation's registerInstrumentations, loaded only when an instrumentation needs it. */
export function registerInstrumentations(
  options: Parameters<typeof import('@opentelemetry/instrumentation').registerInstrumentations>[0],
): () => void {
  return (require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation')).registerInstrumentations(options);
}

type PatchFunction = (exports: unknown, version?: string) => unknown;
type ModuleDefinition = { name?: string; patch?: PatchFunction; unpatch?: PatchFunction; files?: ModuleDefinition[] };

/**
 * Makes an instrumentation's patches unable to break the app: @opentelemetry/instrumentation (0.223)
 * calls a module definition's `patch` inside the app's `require`/`import` with no guard, so one that
 * throws fails the app's load of that module. Each `patch` and `unpatch` of the definitions the
 * instrumentation registered (its `_modules`, read by its require hooks at load time) now catches,
 * reports once, and hands the module on (as far as the patch got before it threw). A module the app
 * loads between constructing the instrumentation (which enables its hooks) and `start()` is not covered.
 */
export function containPatches<T extends Instrumentation>(instrumentation: T): T {
  const definitions = (instrumentation as unknown as { _modules?: unknown })._modules;
  if (!Array.isArray(definitions)) return instrumentation;
  const guard = (definition: ModuleDefinition, key: 'patch' | 'unpatch'): void => {
    const original = definition[key];
    if (typeof original !== 'function') return;
    definition[key] = function contained(this: unknown, exports: unknown, version?: string) {
      try {
        return original.call(this, exports, version);
      } catch (error) {
        reportOnce(
          `instrumentation.${key}.${instrumentation.instrumentationName}.${definition.name ?? ''}`,
          `${instrumentation.instrumentationName} failed to ${key} ${definition.name ?? 'a module'} (left as loaded): ${describeError(error)}`,
        );
        return exports;
      }
    };
  };
  for (const definition of definitions as ModuleDefinition[]) {
    guard(definition, 'patch');
    guard(definition, 'unpatch');
    for (const file of definition.files ?? []) {
      guard(file, 'patch');
      guard(file, 'unpatch');
    }
  }
  return instrumentation;
}

/** What {@link installModuleHooks} hooks. */
export type ModuleHooksOptions = {
  /** The zero-code bridges left on. */
  bridges: readonly ModuleBridge[];
  /** Instrumentations to register now (client spans when spans are recorded, the app's own). */
  instrumentations: readonly Instrumentation[];
  /** The SDK tracer provider, when spans are recorded. */
  tracerProvider: TracerProvider | undefined;
  meterProvider: MeterProvider;
};

/**
 * Everything that patches modules, installed at start: the zero-code bridges; the instrumentations
 * (and, without the ESM loader, `http`/`https` required once so ES-module imports of them are patched
 * too); instrumentation-express, loaded just before express (at once when the ESM loader is on:
 * it hooks ES modules itself); and, without the ESM loader, the hand-over of CommonJS packages that
 * ES modules import to the require hooks.
 *
 * @returns a function that undoes every part (also parts installed later, as express's)
 */
export function installModuleHooks(options: ModuleHooksOptions): () => void {
  const esm = esmLoaderRegistered();
  const providers = { ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}), meterProvider: options.meterProvider };
  const cleanups = [hookModuleBridges(options.bridges, esm)];
  if (options.instrumentations.length > 0) {
    for (const instrumentation of options.instrumentations) containPatches(instrumentation);
    cleanups.push(registerInstrumentations({ instrumentations: [...options.instrumentations], ...providers }));
    // Without the ESM loader, an ES module's `import http from 'node:http'` reaches no require hook.
    if (!esm) requireHttpBuiltins();
  }
  // express: route templates for http.route (metrics included), and middleware spans when spans are
  // recorded; with nothing recorded, no layer spans at all, only the route template on the request.
  const recording = options.tracerProvider !== undefined;
  const instrumentExpress = (): void => {
    const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
    const routesOnly = { ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] };
    cleanups.push(registerInstrumentations({ instrumentations: [containPatches(new ExpressInstrumentation(recording ? {} : routesOnly))], ...providers }));
  };
  if (esm) instrumentExpress();
  else cleanups.push(beforeFirstLoad('express', instrumentExpress));
  // koa (with @koa/router): the matched route template for http.route, from the router's layers;
  // middleware spans only when spans are recorded.
  const instrumentKoa = (): void => {
    const { KoaInstrumentation, KoaLayerType } = require('@opentelemetry/instrumentation-koa') as typeof import('@opentelemetry/instrumentation-koa');
    const routesOnly = { ignoreLayersType: [KoaLayerType.MIDDLEWARE] };
    cleanups.push(registerInstrumentations({ instrumentations: [containPatches(new KoaInstrumentation(recording ? {} : routesOnly))], ...providers }));
  };
  if (esm) instrumentKoa();
  else cleanups.push(beforeFirstLoad('koa', instrumentKoa));
  // hapi: the route's path template (hapi's `/users/{id}` syntax) for http.route; its spans are
  // non-recording when nothing is recorded.
  const instrumentHapi = (): void => {
    const { HapiInstrumentation } = require('@opentelemetry/instrumentation-hapi') as typeof import('@opentelemetry/instrumentation-hapi');
    cleanups.push(registerInstrumentations({ instrumentations: [containPatches(new HapiInstrumentation())], ...providers }));
  };
  if (esm) instrumentHapi();
  else cleanups.push(beforeFirstLoad('@hapi/hapi', instrumentHapi));
  if (!esm) cleanups.push(hookCommonJsLoadedFromEsm());
  return () => {
    for (const cleanup of cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        reportOnce('module-hooks.cleanup', `removing a module hook failed: ${describeError(error)}`);
      }
    }
  };
}
