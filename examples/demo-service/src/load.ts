/** Paths the load mode cycles through: fast, slow, failing, cached, flaky, breaker and pool routes. */
export const LOAD_PATHS = [
  '/', '/', '/', '/slow', '/fail', '/users/7', '/users/{random}', '/users/404', '/flaky', '/quote', '/quote', '/pool', '/pool',
  ...(process.env.DATABASE_URL ? ['/db'] : []),
] as const;

/**
 * Sends requests to every demo route, `ratePerSecond` in all, until the returned stop function is
 * called. Each request is awaited and its errors ignored: the load must never crash the demo.
 */
export function startLoad(baseUrl: string, ratePerSecond: number): () => void {
  let index = 0;
  const timer = setInterval(() => {
    const path = LOAD_PATHS[index++ % LOAD_PATHS.length]!.replace('{random}', String(1 + Math.floor(Math.random() * 80)));
    fetch(`${baseUrl}${path}`)
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  }, Math.max(1, Math.round(1000 / ratePerSecond)));
  timer.unref();
  return () => clearInterval(timer);
}
