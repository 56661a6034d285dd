/**
 * The preload: `node --import @otelkit/node/register app.js`.
 *
 * Registers import-in-the-middle's ESM loader hook on Node's module loader, told (through a message
 * channel) to wrap only the modules that instrumentations ask for; starts the SDK from environment
 * variables, which enables the instrumentations (require-in-the-middle covers CommonJS); then waits until
 * the loader has acknowledged every module name, so the app's first `import` is already hooked.
 * With `OTEL_SDK_DISABLED=true` it loads nothing at all, so a disabled preload costs no start-up time.
 * @packageDocumentation
 */
import { register } from 'node:module';

if (!/^(true|1)$/i.test(process.env.OTEL_SDK_DISABLED?.trim() ?? '')) {
  const [{ createAddHookMessageChannel }, { describeError, reportOnce }, { start }] = await Promise.all([
    import('import-in-the-middle'),
    import('@otelkit/core'),
    import('./sdk.js'),
  ]);
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  try {
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  } catch (error) {
    reportOnce('register.loader', `ESM loader hooks unavailable (ESM modules will not be instrumented): ${describeError(error)}`);
  }
  start();
  await waitForAllMessagesAcknowledged();
}
