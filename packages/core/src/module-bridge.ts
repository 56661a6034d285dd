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
}
