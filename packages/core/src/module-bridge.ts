/**
 * How a bridge package describes its zero-code mode: which module to watch, and what to do with its
 * exports when the application loads it. `@otelkit/node`'s preload turns each description into an
 * OpenTelemetry instrumentation (require-in-the-middle for CommonJS, import-in-the-middle for ESM),
 * so bridge packages stay free of SDK and hooking code.
 */
export interface ModuleBridge {
  /** Short name used in configuration, e.g. `pg` (`OTELKIT_BRIDGES_DISABLED=pg`). */
  readonly name: string;
  /** The npm module to watch, e.g. `pg`, `opossum`, `lru-cache`. */
  readonly moduleName: string;
  /** semver ranges of the module versions the bridge supports, e.g. `['>=8 <9']`. */
  readonly supportedVersions: readonly string[];
  /**
   * Called once with the module's exports (for ESM, the namespace object) when the app loads it.
   * Returns the exports to hand to the app: the same object, changed in place, or a replacement.
   * Must not throw; `@otelkit/node` contains and reports it if it does.
   */
  readonly patch: (moduleExports: unknown, moduleVersion: string | undefined) => unknown;
  /** Undoes `patch` (when the SDK shuts down). */
  readonly unpatch?: (moduleExports: unknown) => void;
  /** Whether the bridge is on when nothing configures it. @default true */
  readonly enabledByDefault?: boolean;
  /**
   * Whether the module ships an ES-module build that an ES-module app loads (lru-cache, keyv):
   * binding it zero-code there needs the ESM loader hook. CommonJS modules need no such hook.
   * @default false
   */
  readonly esModule?: boolean;
}

/** What the preload needs of a zero-code bridge before its module loads: everything but the code. */
export type ModuleBridgeDescription = Pick<ModuleBridge, 'name' | 'moduleName' | 'supportedVersions' | 'enabledByDefault' | 'esModule'>;

/**
 * Zero-code bridges whose code loads only when the app loads one of their modules: `descriptions`
 * say what to watch, and `load` (synchronous, e.g. a `createRequire` of the bridge's own module) is
 * called once, at the first `patch`, for the full bridges with those names. A preload that never
 * sees `pg` never loads the pool bridge's code.
 *
 * @example
 * export const poolZeroCodeBridges = lazyModuleBridges(
 *   [{ name: 'pg', moduleName: 'pg', supportedVersions: ['>=8 <9'] }],
 *   () => require('./module-bridges.js').poolModuleBridges,
 * );
 */
export function lazyModuleBridges(
  descriptions: readonly ModuleBridgeDescription[],
  load: () => readonly ModuleBridge[],
): readonly ModuleBridge[] {
  let loaded: readonly ModuleBridge[] | undefined;
  const bridgeNamed = (name: string): ModuleBridge => {
    loaded ??= load();
    const bridge = loaded.find((candidate) => candidate.name === name);
    if (bridge === undefined) throw new Error(`no zero-code bridge named "${name}" in the loaded code`);
    return bridge;
  };
  return Object.freeze(
    descriptions.map((description) =>
      Object.freeze({
        ...description,
        patch: (moduleExports: unknown, moduleVersion: string | undefined) => bridgeNamed(description.name).patch(moduleExports, moduleVersion),
        unpatch: (moduleExports: unknown) => {
          if (loaded !== undefined) bridgeNamed(description.name).unpatch?.(moduleExports);
        },
      }),
    ),
  );
}
