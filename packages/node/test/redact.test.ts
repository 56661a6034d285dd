import { describe, expect, it } from 'vitest';
import { redactQuery, redactUrl } from '@otelkit/node';

describe('redaction', () => {
  it('replaces every query value, keeping the keys', () => {
    expect(redactQuery('token=abc&page=2&flag')).toBe('token=REDACTED&page=REDACTED&REDACTED');
    // A bare item may be the secret itself.
    expect(redactQuery('?s3cr3t')).toBe('REDACTED');
    expect(redactQuery('?a=1')).toBe('a=REDACTED');
    expect(redactQuery('')).toBe('');
  });

  it('removes userinfo credentials and query values from full URLs', () => {
    expect(redactUrl('https://user:pa55@api.example.com/v1/x?api_key=k&q=cats#frag')).toBe(
      'https://REDACTED:REDACTED@api.example.com/v1/x?api_key=REDACTED&q=REDACTED',
    );
    expect(redactUrl('http://example.com/path')).toBe('http://example.com/path');
  });
});
