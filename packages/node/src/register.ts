/**
 * The preload: `node --import @otelkit/node/register app.js`.
 *
 * Starts the SDK from environment variables: module hooks (zero-code bridges in `Module._load`, which
 * also sees CommonJS packages an ES-module app imports; instrumentations when their library loads),
 * HTTP server telemetry and context; the metrics SDK follows off the start-up path (see sdk.ts).
 * Only when an ES module must be patched (`OTELKIT_ESM_LOADER`, see esm-loader.ts)
 * does it first register import-in-the-middle's ESM loader hook, told to wrap only the modules
 * instrumentations ask for, and wait until the loader has acknowledged every module name.
 * With `OTEL_SDK_DISABLED=true` it loads nothing at all, so a disabled preload costs no start-up time.
 * @packageDocumentation
 */
if (!/^(true|1)$/i.test(process.env.OTEL_SDK_DISABLED?.trim() ?? '')) await import('./preload.js');
