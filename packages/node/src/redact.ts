/** What replaces a redacted value. */
export const REDACTED = 'REDACTED';

/**
 * A query string with every value replaced by `REDACTED` (keys kept, so a trace still shows which
 * parameters were sent): `token=abc&page=2` becomes `token=REDACTED&page=REDACTED`. An item with no
 * `=` may itself be the secret (`?s3cr3t`, a bare token), so it is replaced whole.
 */
export function redactQuery(query: string): string {
  const raw = query.startsWith('?') ? query.slice(1) : query;
  if (raw === '') return raw;
  return raw
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const at = pair.indexOf('=');
      return at < 0 ? REDACTED : `${pair.slice(0, at)}=${REDACTED}`;
    })
    .join('&');
}

/** A full URL with userinfo credentials and every query value redacted. Unparsable input is dropped to its path-less origin. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  const hash = url.indexOf('#', query >= 0 ? query : 0);
  let head = query >= 0 ? url.slice(0, query) : hash >= 0 ? url.slice(0, hash) : url;
  head = head.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@/, `$1${REDACTED}:${REDACTED}@`);
  if (query < 0) return head;
  const queryString = hash > query ? url.slice(query + 1, hash) : url.slice(query + 1);
  return `${head}?${redactQuery(queryString)}`;
}
