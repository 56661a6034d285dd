import CircuitBreaker from 'opossum';

/**
 * A downstream "quote service" that goes bad for `periodMs` out of every `2 * periodMs` (every call
 * fails then), behind an opossum circuit breaker with a cached fallback. Under the preload the
 * breaker is bridged with no code here (zero-code, named by its `name` option), so `/metrics` shows its
 * state, calls by outcome and closed -> open -> half_open -> closed transitions.
 */
export function createQuoteBreaker(periodMs: number): CircuitBreaker<[], string> {
  const badPhase = () => Math.floor(Date.now() / periodMs) % 2 === 1;
  async function fetchQuote(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 30));
    if (badPhase()) throw new Error('quote service unavailable');
    return `quote-${Math.floor(Math.random() * 1000)}`;
  }
  const breaker = new CircuitBreaker(fetchQuote, {
    name: 'quote-service',
    timeout: 500,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    resetTimeout: Math.max(500, Math.round(periodMs / 5)),
    // The error rate is judged over the last `periodMs`, so a bad phase opens the breaker.
    rollingCountTimeout: periodMs,
    rollingCountBuckets: 10,
  });
  breaker.fallback(() => 'cached-quote');
  return breaker;
}
