/**
 * What the preload (register.ts) runs when the SDK is not disabled: decides on the ESM loader hook,
 * registers it if needed, starts the SDK from the environment, and waits for the loader to know
 * every module name. A module of its own so a disabled preload loads none of it.
 */
import { register } from 'node:module';

import { BUILTIN_MODULE_BRIDGES } from './bridges.js';
import { configFromEnv } from './config.js';
import { markEsmLoaderRegistered, needsEsmLoader } from './esm-loader.js';
import { enabledBridges } from './module-bridges.js';
import { setDiagLogger, start } from './sdk.js';

const { config } = configFromEnv();
// Diagnostics from the first check on (the ESM loader decision reads the app's package.json).
setDiagLogger(config.logLevel);
const bridges = enabledBridges(BUILTIN_MODULE_BRIDGES, config.bridgesDisabled);
const acknowledged = needsEsmLoader(config.esmLoader, process.argv[1], bridges) ? await registerEsmLoader() : undefined;
if (acknowledged) markEsmLoaderRegistered();
start();
await acknowledged?.();

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
