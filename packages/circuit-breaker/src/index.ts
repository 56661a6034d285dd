/**
 * @otelkit/circuit-breaker: OpenTelemetry metrics and span events for circuit breakers: opossum,
 * cockatiel and hand-written ones. Names come from `@otelkit/core`'s catalog (`circuit_breaker.*`).
 * @packageDocumentation
 */
export type {
  BreakerBridgeOptions,
  BreakerHandle,
  CircuitBreakerOutcome,
  CircuitBreakerState,
} from './types.js';
export { instrumentOpossum, type OpossumBreaker } from './opossum.js';
export {
  instrumentCockatiel,
  GIVE_UP_EVENT,
  RETRY_EVENT,
  TIMEOUT_EVENT,
  type CockatielBridgeOptions,
  type CockatielBulkhead,
  type CockatielCircuitBreaker,
  type CockatielEvent,
  type CockatielRetry,
  type CockatielTimeout,
} from './cockatiel.js';
export { instrumentCustomBreaker, type CustomBreakerHandle, type CustomBreakerOptions } from './custom.js';
export { breakerReadinessCheck, type BreakerReadinessOptions } from './readiness.js';
export { REJECTED_EVENT, STATE_CHANGE_EVENT } from './span-events.js';
export { circuitBreakerModuleBridges, patchOpossum, unpatchOpossum } from './module-bridge.js';
