/** Result of one readiness check: ready or not, with an optional short reason. */
export interface ReadinessResult {
  /** Whether the dependency is ready to take traffic. */
  readonly ready: boolean;
  /** Why it is not ready (or a short status), shown in the health endpoint's JSON body. */
  readonly detail?: string;
}

/**
 * A readiness check, as `@otelkit/node`'s `addReadinessCheck(name, check)` takes it. Returning a
 * boolean is enough; throwing or rejecting counts as not ready. Bridges export factories that build
 * one (for a pool near saturation, an open circuit breaker) without depending on `@otelkit/node`.
 */
export type ReadinessCheck = () =>
  | boolean
  | ReadinessResult
  | PromiseLike<boolean | ReadinessResult>;
