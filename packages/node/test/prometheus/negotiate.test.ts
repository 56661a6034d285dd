import { describe, expect, it } from 'vitest';
import { acceptsGzip, negotiateFormat } from '../../src/prometheus/negotiate.js';
import { escapeName, translateMetricName } from '../../src/prometheus/names.js';

const PROTO = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

describe('content negotiation', () => {
  it("picks what Prometheus' own Accept headers prefer", () => {
    // Prometheus 2.42 with native histograms on, then off (its scrape_protocols defaults).
    expect(negotiateFormat(`${PROTO},application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`).name).toBe('protobuf');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1').name).toBe('openmetrics');
    // Prometheus 3 with UTF-8 names.
    const utf8 = negotiateFormat(`${PROTO};q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`);
    expect(utf8.name).toBe('protobuf');
    expect(utf8.escaping).toBe('underscores');
  });

  it('honours q-values over order, and the earlier range on a tie', () => {
    expect(negotiateFormat(`text/plain;version=0.0.4;q=0.2,${PROTO};q=0.9`).name).toBe('protobuf');
    expect(negotiateFormat('text/plain;version=1.0.0;q=0.5,application/openmetrics-text;version=1.0.0;q=0.5').name).toBe('text-1.0.0');
    expect(negotiateFormat(`${PROTO};q=0,text/plain;version=1.0.0;q=0.1`).name).toBe('text-1.0.0');
    // An unreadable q does not rank first.
    expect(negotiateFormat(`${PROTO};q=abc,application/openmetrics-text;version=1.0.0;q=0.9`).name).toBe('openmetrics');
  });

  it('says exactly what is served in the Content-Type, escaping included', () => {
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;escaping=dots').contentType).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots',
    );
    expect(negotiateFormat('text/plain;version=1.0.0;escaping=allow-utf-8').contentType).toBe('text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
    expect(negotiateFormat(`${PROTO};escaping=values`).contentType).toBe(
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=values',
    );
  });

  it('falls back to text 0.0.4 with legacy names for anything else', () => {
    for (const accept of [undefined, '', 'application/json', '*/*', 'text/html', 'application/vnd.google.protobuf;proto=other', 'text/plain;version=9']) {
      const format = negotiateFormat(accept);
      expect(format.name).toBe('text-0.0.4');
      expect(format.contentType).toBe('text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    }
    // 0.0.4 cannot carry UTF-8 names.
    expect(negotiateFormat('text/plain;version=0.0.4;escaping=allow-utf-8').escaping).toBe('underscores');
    expect(negotiateFormat('text/plain;version=0.0.4;escaping=bogus').escaping).toBe('underscores');
  });

  it('gzips only when Accept-Encoding allows it', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('br, *;q=0.1')).toBe(true);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('names', () => {
  it('escapes as Prometheus does under each scheme', () => {
    expect(escapeName('http.server.duration', 'underscores')).toBe('http_server_duration');
    expect(escapeName('http.server.duration', 'dots')).toBe('http_dot_server_dot_duration');
    expect(escapeName('my.metric_total', 'dots')).toBe('my_dot_metric__total');
    // Valid names are never escaped (EscapeMetricFamily), not even under dots.
    expect(escapeName('my_metric', 'dots')).toBe('my_metric');
    expect(escapeName('http.server_duration', 'values')).toBe('U__http_2e_server__duration');
    expect(escapeName('legacy_name', 'values')).toBe('legacy_name');
    expect(escapeName('温度', 'values')).toBe('U___6e29__5ea6_');
    expect(escapeName('1st', 'underscores')).toBe('_st');
    expect(escapeName('a.b', 'allow-utf-8')).toBe('a.b');
    expect(escapeName('a:b', 'underscores', true)).toBe('a_b');
  });

  it('translates under each strategy of the specification', () => {
    expect(translateMetricName('http.server.request.duration', 's', 'histogram', 'UnderscoreEscapingWithSuffixes')).toBe('http_server_request_duration_seconds');
    expect(translateMetricName('http.server.request.duration', 's', 'histogram', 'UnderscoreEscapingWithoutSuffixes')).toBe('http_server_request_duration');
    expect(translateMetricName('http.server.request.duration', 's', 'histogram', 'NoUTF8EscapingWithSuffixes')).toBe('http.server.request.duration_seconds');
    expect(translateMetricName('http.server.request.duration', 's', 'histogram', 'NoTranslation')).toBe('http.server.request.duration');
    expect(translateMetricName('cache.requests', '{request}', 'counter', 'UnderscoreEscapingWithSuffixes')).toBe('cache_requests_total');
    expect(translateMetricName('cache.requests', '{request}', 'counter', 'NoUTF8EscapingWithSuffixes')).toBe('cache.requests_total');
    expect(translateMetricName('cache.requests', '{request}', 'counter', 'NoTranslation')).toBe('cache.requests');
  });
});
