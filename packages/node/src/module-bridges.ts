import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type Instrumentation,
} from '@opentelemetry/instrumentation';
import { describeError, OTELKIT_VERSION, reportOnce, type ModuleBridge } from '@otelkit/core';

/**
 * Turns a bridge package's zero-code description into an OpenTelemetry instrumentation: when the app
 * loads `bridge.moduleName` (require or import), `bridge.patch` sees its exports. Whatever `patch`
 * throws is contained and reported once; the app then gets the module unpatched.
 */
export function moduleBridgeInstrumentation(bridge: ModuleBridge): Instrumentation {
  const safePatch = (exports: unknown, version: string | undefined): unknown => {
    try {
      return bridge.patch(exports, version) ?? exports;
    } catch (error) {
      reportOnce(`bridge.${bridge.name}.patch`, `zero-code bridge "${bridge.name}" failed and is off: ${describeError(error)}`);
      return exports;
    }
  };
  const safeUnpatch = (exports: unknown): void => {
    try {
      bridge.unpatch?.(exports);
    } catch (error) {
      reportOnce(`bridge.${bridge.name}.unpatch`, `zero-code bridge "${bridge.name}" failed to unpatch: ${describeError(error)}`);
    }
  };

  // A class per bridge: InstrumentationBase calls init() from its constructor, before subclass fields exist.
  class ModuleBridgeInstrumentation extends InstrumentationBase {
    constructor() {
      super(`@otelkit/bridge-${bridge.name}`, OTELKIT_VERSION, {});
    }

    protected override init(): InstrumentationNodeModuleDefinition[] {
      return [
        new InstrumentationNodeModuleDefinition(
          bridge.moduleName,
          [...bridge.supportedVersions],
          (exports: unknown, version?: string) => safePatch(exports, version),
          (exports: unknown) => safeUnpatch(exports),
        ),
      ];
    }
  }
  return new ModuleBridgeInstrumentation();
}

/**
 * The bridges left on: those `OTELKIT_BRIDGES_DISABLED` does not name (`all` names every one), among
 * those on by default (`enabledByDefault`, true unless a bridge says otherwise).
 */
export function enabledBridges(bridges: readonly ModuleBridge[], disabled: readonly string[]): ModuleBridge[] {
  if (disabled.includes('all')) return [];
  return bridges.filter((bridge) => !disabled.includes(bridge.name) && bridge.enabledByDefault !== false);
}
