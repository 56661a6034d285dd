/**
 * Reads the demo's own `/metrics` every few seconds and prints one line of what it shows: requests,
 * the 5xx error ratio, the cache hit ratio, pool usage and the breaker's state. Only to make
 * `npm run demo` show numbers at once; real users read `/metrics` with Prometheus.
 */
export function startSummary(metricsUrl: string, everySeconds: number): () => void {
  const timer = setInterval(() => {
    fetch(metricsUrl)
      .then((response) => response.text())
      .then((text) => console.log(summarize(text)))
      .catch(() => undefined);
  }, everySeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Sums the samples of `name` whose labels contain every `label="value"` in `having`. */
function total(text: string, name: string, having: string[] = []): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!having.every((label) => line.includes(label))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : 'n/a';
}

/** One line from a Prometheus exposition: requests, 5xx ratio, cache hit ratio, pool use, breaker state. */
export function summarize(text: string): string {
  const requests = total(text, 'http_server_request_duration_seconds_count');
  const errors = total(text, 'http_server_request_duration_seconds_count', ['http_response_status_code="5']);
  const hits = total(text, 'cache_requests_total', ['cache_result="hit"']);
  const misses = total(text, 'cache_requests_total', ['cache_result="miss"']);
  const used = total(text, 'db_client_connection_count', ['db_client_connection_state="used"', 'pool_name="blocks"']);
  const max = total(text, 'db_client_connection_max', ['pool_name="blocks"']);
  // One series per process: a clustered demo shows how many workers' breakers are in each state.
  const states = ['closed', 'open', 'half_open']
    .map((s) => [s, total(text, 'circuit_breaker_state', [`circuit_breaker_state="${s}"`])] as const)
    .filter(([, count]) => count > 0);
  const state = states.length === 0 ? 'n/a' : states.map(([s, count]) => (count > 1 ? `${s} x${count}` : s)).join(', ');
  const opened = total(text, 'circuit_breaker_transitions_total', ['circuit_breaker_transition_to="open"']);
  return (
    `requests ${requests}, 5xx ${percent(errors, requests)} | cache "users" hit ratio ${percent(hits, hits + misses)}` +
    ` | pool "blocks" ${used}/${max} used | breaker "quote-service" ${state} (opened ${opened}x)`
  );
}
