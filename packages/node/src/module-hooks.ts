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
    cleanups.push(registerInstrumentations({ instrumentations: [new ExpressInstrumentation(recording ? {} : routesOnly)], ...providers }));
  };
  if (esm) instrumentExpress();
  else cleanups.push(beforeFirstLoad('express', instrumentExpress));
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
