/**
 * Histogram bucket boundaries, in seconds, for every otelkit duration histogram:
 * 10 ms to 10 s. Chosen for request and operation latencies of network services;
 * the semantic-convention advice starts at 5 ms and has 14 buckets, which costs
 * more series per histogram without helping the p50/p95/p99 that services alert on.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
