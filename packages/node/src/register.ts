/**
 * The preload: `node --import @otelkit/node/register app.js`.
 *
 * Starts the SDK from environment variables, which enables the instrumentations and zero-code
 * bridges (require-in-the-middle, which also sees CommonJS packages an ES-module app imports: see
 * `cjs-from-esm.ts`). Only when an ES module must be patched (`OTELKIT_ESM_LOADER`, see esm-loader.ts)
 * does it first register import-in-the-middle's ESM loader hook, told to wrap only the modules
 * instrumentations ask for, and wait until the loader has acknowledged every module name.
 * With `OTEL_SDK_DISABLED=true` it loads nothing at all, so a disabled preload costs no start-up time.
 * @packageDocumentation
 */
import { register } from 'node:module';

if (!/^(true|1)$/i.test(process.env.OTEL_SDK_DISABLED?.trim() ?? '')) {
  const [{ start }, { configFromEnv }, { markEsmLoaderRegistered, needsEsmLoader }, { BUILTIN_MODULE_BRIDGES }, { enabledBridges }] = await Promise.all([
    import('./sdk.js'),
    import('./config.js'),
    import('./esm-loader.js'),
    import('./bridges.js'),
    import('./module-bridges.js'),
  ]);
  const { config } = configFromEnv();
  const bridges = enabledBridges(BUILTIN_MODULE_BRIDGES, config.bridgesDisabled);
  const acknowledged = needsEsmLoader(config.esmLoader, process.argv[1], bridges) ? await registerEsmLoader() : undefined;
  if (acknowledged) markEsmLoaderRegistered();
  start();
  await acknowledged?.();
}

/** Registers import-in-the-middle's loader hook; returns the wait for it to know every module name. */
async function registerEsmLoader(): Promise<(() => Promise<void>) | undefined> {
  const [{ createAddHookMessageChannel }, { describeError, reportOnce }] = await Promise.all([import('import-in-the-middle'), import('@otelkit/core')]);
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  try {
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
    return waitForAllMessagesAcknowledged;
  } catch (error) {
    reportOnce('register.loader', `ESM loader hooks unavailable (ES modules will not be instrumented): ${describeError(error)}`);
    return undefined;
  }
}
