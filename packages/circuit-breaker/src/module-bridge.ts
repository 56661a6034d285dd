import { bindAutomatically, constructingSubclass, describeError, isReplacement, replaceExports, reportOnce, restoreExports, type ModuleBridge } from '@otelkit/core';
import { instrumentOpossum, type OpossumBreaker } from './opossum.js';


/** Whether the zero-code bridge binds new breakers: off after unpatch (a CommonJS subclass already handed out stays, inert). */
const bridgeState = { active: false };

type Constructor = abstract new (...args: never[]) => object;

/** The name opossum gives a breaker when it does not invent one: the `name` option, else the action's name. */
function explicitName(action: unknown, options: unknown): string | undefined {
  const fromOptions = (options as { name?: unknown } | undefined)?.name;
  if (typeof fromOptions === 'string' && fromOptions !== '') return fromOptions;
  const fromAction = typeof action === 'function' ? action.name : undefined;
  return fromAction ? fromAction : undefined;
}

/** The subclass the app gets instead of opossum's `CircuitBreaker` (core's constructingSubclass: same name, statics, instanceof). */
function bridgedSubclass(Base: Constructor): Constructor {
  if (isReplacement(Base)) return Base;
  return constructingSubclass(Base as never, {
    isActive: () => bridgeState.active,
    failureKey: 'opossum zero-code binding',
    afterConstruct: (breaker, args) => {
      // Without a `name` option or a named action, opossum names a breaker with a random UUID: a new
      // series on every restart and per breaker made on the fly. Such breakers are left unbridged.
      if (explicitName(args[0], args[1]) === undefined) {
        reportOnce('opossum.unnamed', 'an opossum breaker with no name option (and an anonymous action) is not bridged; pass { name } or call instrumentOpossum(breaker, { name })');
        return;
      }
      // instrumentOpossum never throws; it names the breaker after opossum's `name` option.
      bindAutomatically(() => instrumentOpossum(breaker as unknown as OpossumBreaker));
    },
  }) as unknown as Constructor;
}

/**
 * Zero-code patch for opossum: returns a subclass of the exported `CircuitBreaker` whose constructor
 * binds every new breaker (CommonJS: the replacement exports; ESM: the namespace with `default`
 * replaced). Anything unexpected leaves the exports untouched, with one diagnostic.
 */
export function patchOpossum(moduleExports: unknown): unknown {
  bridgeState.active = true;
  try {
    if (typeof moduleExports === 'function') return bridgedSubclass(moduleExports as Constructor);
    if (typeof moduleExports === 'object' && moduleExports !== null) {
      const namespace = moduleExports as { default?: unknown };
      if (typeof namespace.default === 'function') {
        return replaceExports(namespace, ['default'], (original) => bridgedSubclass(original as unknown as Constructor) as never).exports;
      }
    }
    reportOnce('opossum:patch-shape', 'opossum exports are not the CircuitBreaker class; opossum breakers are not bridged.');
  } catch (error) {
    reportOnce('opossum:patch', `patching opossum failed, breakers are not bridged: ${describeError(error)}`);
  }
  return moduleExports;
}

/**
 * Undoes {@link patchOpossum}: new breakers are no longer bound (breakers bound already stay bound
 * until unbound or shut down), and an ES-module namespace gets opossum's own class back.
 */
export function unpatchOpossum(moduleExports: unknown): void {
  bridgeState.active = false;
  restoreExports(moduleExports, ['default']);
}

/**
 * `@otelkit/circuit-breaker`'s zero-code bridges, for `@otelkit/node`'s preload: `opossum` (on by
 * default; turn off with the node package's bridge configuration, e.g. `OTELKIT_BRIDGES_DISABLED=opossum`).
 * Every breaker created after the app loads opossum is bound, named by its `name` option.
 */
export const circuitBreakerModuleBridges: readonly ModuleBridge[] = Object.freeze([
  Object.freeze({
    name: 'opossum',
    moduleName: 'opossum',
    supportedVersions: ['>=6 <11'],
    patch: (moduleExports: unknown) => patchOpossum(moduleExports),
    unpatch: (moduleExports: unknown) => unpatchOpossum(moduleExports),
    enabledByDefault: true,
  }),
]);
