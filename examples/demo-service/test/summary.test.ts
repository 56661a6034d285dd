import { describe, expect, it } from 'vitest';
import { summarize } from '../src/summary.js';

describe('demo summary line', () => {
  it('reads requests, error ratio, hit ratio, pool use and breaker state from /metrics text', () => {
    const text = [
      'http_server_request_duration_seconds_count{http_route="/",http_response_status_code="200"} 30',
      'http_server_request_duration_seconds_count{http_route="/fail",http_response_status_code="500"} 10',
      'cache_requests_total{cache_name="users",cache_result="hit"} 3',
      'cache_requests_total{cache_name="users",cache_result="miss"} 1',
      'db_client_connection_count{db_client_connection_pool_name="blocks",db_client_connection_state="used"} 2',
      'db_client_connection_max{db_client_connection_pool_name="blocks"} 5',
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="closed"} 0',
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="open"} 1',
      'circuit_breaker_transitions_total{circuit_breaker_transition_from="closed",circuit_breaker_transition_to="open"} 2',
    ].join('\n');
    expect(summarize(text)).toBe(
      'requests 40, 5xx 25.0% | cache "users" hit ratio 75.0% | pool "blocks" 2/5 used | breaker "quote-service" open (opened 2x)',
    );
  });

  it('shows how many workers are in each breaker state when the demo runs clustered', () => {
    const text = [
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="closed",otelkit_worker="1"} 1',
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="closed",otelkit_worker="2"} 0',
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="open",otelkit_worker="2"} 1',
      'circuit_breaker_state{circuit_breaker_name="quote-service",circuit_breaker_state="closed",otelkit_worker="3"} 1',
    ].join('\n');
    expect(summarize(text)).toContain('breaker "quote-service" closed x2, open (opened 0x)');
  });
});
