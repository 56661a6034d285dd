import { ESCAPING_SCHEMES, type EscapingScheme } from './names.js';

/** The exposition formats `/metrics` serves. */
export type ExpositionFormatName = 'protobuf' | 'openmetrics' | 'text-1.0.0' | 'text-0.0.4';

/** What a scrape is answered in: the format, its escaping scheme and the exact `Content-Type`. */
export type ExpositionFormat = {
  name: ExpositionFormatName;
  escaping: EscapingScheme;
  /** OpenMetrics version named in the request (`1.0.0` or `0.0.1`; the body is the same). */
  version: string;
  contentType: string;
};

const PROTOBUF_TYPE = 'application/vnd.google.protobuf';
const PROTOBUF_PROTO = 'io.prometheus.client.MetricFamily';
const OPENMETRICS_TYPE = 'application/openmetrics-text';

type MediaRange = { type: string; params: Map<string, string>; q: number };

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [type, ...rest] = part.split(';');
    const params = new Map<string, string>();
    let q = 1;
    for (const parameter of rest) {
      const equals = parameter.indexOf('=');
      if (equals < 0) continue;
      const key = parameter.slice(0, equals).trim().toLowerCase();
      const value = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') {
        // An unreadable q takes the range out of the running rather than ranking it first.
        const parsed = value === '' ? NaN : Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      } else params.set(key, value);
    }
    const mediaType = (type ?? '').trim().toLowerCase();
    if (mediaType !== '') ranges.push({ type: mediaType, params, q });
  }
  return ranges;
}

function escapingOf(range: MediaRange, utf8Capable: boolean): EscapingScheme {
  const requested = range.params.get('escaping') as EscapingScheme | undefined;
  // Prometheus' docs once spelled it allow-utf8; accept both.
  const scheme = (requested as string | undefined) === 'allow-utf8' ? 'allow-utf-8' : requested;
  if (scheme === undefined || !ESCAPING_SCHEMES.includes(scheme)) return 'underscores';
  if (scheme === 'allow-utf-8' && !utf8Capable) return 'underscores';
  return scheme;
}

/** The format a media range asks for, or undefined when it names none that is served. */
function formatOf(range: MediaRange): ExpositionFormat | undefined {
  if (range.type === PROTOBUF_TYPE) {
    const proto = range.params.get('proto');
    const encoding = range.params.get('encoding');
    if (proto !== PROTOBUF_PROTO || (encoding !== undefined && encoding !== 'delimited')) return undefined;
    return build('protobuf', escapingOf(range, true), '');
  }
  if (range.type === OPENMETRICS_TYPE) {
    const version = range.params.get('version') ?? '1.0.0';
    if (version !== '1.0.0' && version !== '0.0.1') return undefined;
    return build('openmetrics', escapingOf(range, version === '1.0.0'), version);
  }
  if (range.type === 'text/plain') {
    const version = range.params.get('version');
    if (version === '1.0.0') return build('text-1.0.0', escapingOf(range, true), '');
    if (version === undefined || version === '0.0.4') return build('text-0.0.4', escapingOf(range, false), '');
    return undefined;
  }
  if (range.type === 'text/*' || range.type === '*/*') return build('text-0.0.4', 'underscores', '');
  return undefined;
}

function build(name: ExpositionFormatName, escaping: EscapingScheme, version: string): ExpositionFormat {
  const suffix = `; escaping=${escaping}`;
  const contentType =
    name === 'protobuf' ? `${PROTOBUF_TYPE}; proto=${PROTOBUF_PROTO}; encoding=delimited${suffix}`
    : name === 'openmetrics' ? `${OPENMETRICS_TYPE}; version=${version}; charset=utf-8${suffix}`
    : name === 'text-1.0.0' ? `text/plain; version=1.0.0; charset=utf-8${suffix}`
    : `text/plain; version=0.0.4; charset=utf-8${suffix}`;
  return { name, escaping, version, contentType };
}

/** Text 0.0.4 with legacy names: what is served when the request names no format that is. */
export const FALLBACK_FORMAT: ExpositionFormat = build('text-0.0.4', 'underscores', '');

/**
 * The format to answer a scrape in, from its `Accept` header, as Prometheus' content-negotiation
 * document describes: the served format with the highest `q` (the earlier one on a tie), its
 * `escaping=` parameter honoured where the format can carry UTF-8 names (else `underscores`);
 * text 0.0.4 when nothing served is asked for.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return FALLBACK_FORMAT;
  // Ranges in header order; only a strictly higher q replaces the best so far (the earlier wins a tie).
  let best: { format: ExpositionFormat; q: number } | undefined;
  for (const range of parseAccept(accept)) {
    if (range.q <= 0) continue;
    const format = formatOf(range);
    if (format === undefined) continue;
    if (best === undefined || range.q > best.q) best = { format, q: range.q };
  }
  return best?.format ?? FALLBACK_FORMAT;
}

/**
 * Whether an `Accept-Encoding` header accepts gzip: `gzip` with a q above 0, or, when gzip is not
 * named, `*` with a q above 0 (an explicit `gzip;q=0` wins over `*`).
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...params] = part.split(';');
    const name = (coding ?? '').trim().toLowerCase();
    if (name !== 'gzip' && name !== '*') continue;
    const qParameter = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const parsed = qParameter === undefined ? 1 : Number(qParameter.slice(2));
    const q = Number.isFinite(parsed) ? parsed : 0;
    if (name === 'gzip') gzip = q;
    else any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}
