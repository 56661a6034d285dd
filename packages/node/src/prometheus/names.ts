/**
 * Metric and label names on `/metrics`: the OpenTelemetry specification's translation (unit and
 * `_total` suffixes, legacy-character escaping, chosen by `translation_strategy`), then the
 * escaping scheme the scraper negotiated (Prometheus' `escaping=` parameter), in that order, as the
 * specification orders them.
 */

/** The specification's `translation_strategy` settings of the Prometheus exporter. */
export const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;
/** How OpenTelemetry names become Prometheus names (see {@link TRANSLATION_STRATEGIES}). */
export type TranslationStrategy = (typeof TRANSLATION_STRATEGIES)[number];
/** The specification's default strategy. */
export const DEFAULT_TRANSLATION_STRATEGY: TranslationStrategy = 'UnderscoreEscapingWithSuffixes';

/** Prometheus' escaping schemes, as the `escaping=` parameter names them. */
export const ESCAPING_SCHEMES = ['allow-utf-8', 'underscores', 'dots', 'values'] as const;
/** A Prometheus escaping scheme (see {@link ESCAPING_SCHEMES}). */
export type EscapingScheme = (typeof ESCAPING_SCHEMES)[number];

const UNIT_NAMES: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tebibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};
const PER_UNIT_NAMES: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** The Prometheus unit suffix for a UCUM unit, or '' when it has none. */
export function unitSuffix(unit: string, isGauge: boolean): string {
  const stripped = unit.replace(/\{[^}]*\}/g, '').trim();
  if (stripped === '') return '';
  if (stripped === '1') return isGauge ? 'ratio' : '';
  const slash = stripped.indexOf('/');
  if (slash >= 0) {
    const over = stripped.slice(0, slash);
    const under = stripped.slice(slash + 1);
    const overName = over === '' || over === '1' ? '' : (UNIT_NAMES[over] ?? sanitizeName(over));
    const underName = PER_UNIT_NAMES[under] ?? sanitizeName(under);
    if (underName === '') return overName;
    return overName === '' ? `per_${underName}` : `${overName}_per_${underName}`;
  }
  return UNIT_NAMES[stripped] ?? sanitizeName(stripped);
}

/** Replaces characters Prometheus metric names cannot hold with `_`, collapsing runs of `_` (the specification's rule). */
export function sanitizeName(name: string): string {
  let result = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
  if (/^[0-9]/.test(result)) result = `_${result}`;
  return result;
}

/** Replaces characters Prometheus label names cannot hold with `_`. */
export function sanitizeLabelName(name: string): string {
  let result = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(result)) result = `_${result}`;
  return result;
}

/** What a family is, as far as naming goes. */
export type FamilyKind = 'counter' | 'gauge' | 'histogram';

/**
 * The Prometheus family name of an OpenTelemetry metric under a translation strategy (before the
 * negotiated escaping). Counters end in `_total` when suffixes are on.
 */
export function translateMetricName(name: string, unit: string, kind: FamilyKind, strategy: TranslationStrategy): string {
  const escape = strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes';
  const suffixes = strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'NoUTF8EscapingWithSuffixes';
  let result = escape ? sanitizeName(name) : name;
  if (!suffixes) return result;
  if (kind === 'counter' && result.endsWith('_total')) result = result.slice(0, -'_total'.length);
  const suffix = unitSuffix(unit, kind === 'gauge');
  if (suffix && !result.endsWith(`_${suffix}`)) result = `${result}_${suffix}`;
  if (kind === 'counter') result = `${result}_total`;
  return result;
}

/** An attribute key as a label name under a translation strategy (before the negotiated escaping). */
export function translateLabelName(key: string, strategy: TranslationStrategy): string {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes' ? sanitizeLabelName(key) : key;
}

const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether a metric name needs no quoting in the text formats. */
export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}

/** Whether a label name needs no quoting in the text formats. */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

function isLegacyCharacter(code: number, position: number, label: boolean): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    code === 95 ||
    (code === 58 && !label) ||
    (position > 0 && code >= 48 && code <= 57)
  );
}

/**
 * A name under a Prometheus escaping scheme, as Prometheus' own `EscapeMetricFamily` computes it
 * (names valid in the legacy character set are left as they are), so Prometheus can reverse `dots`
 * and `values`:
 * - `allow-utf-8`: unchanged;
 * - `underscores`: every character outside `[a-zA-Z0-9_:]` (a leading digit too) becomes `_`;
 * - `dots`: `_` becomes `__`, `.` becomes `_dot_`, other such characters `__`;
 * - `values`: a name that is not legacy gets a `U__` prefix, `_` becomes `__`, other such
 *   characters `_<hex code point>_`.
 * Label names (`label`) hold no `:`.
 */
export function escapeName(name: string, scheme: EscapingScheme, label = false): string {
  if (name === '' || scheme === 'allow-utf-8') return name;
  // As Prometheus' EscapeMetricFamily: names that are valid already are never escaped.
  if (label ? isLegacyLabelName(name) : isLegacyMetricName(name)) return name;
  let out = scheme === 'values' ? 'U__' : '';
  let position = 0;
  for (const character of name) {
    const code = character.codePointAt(0)!;
    if (scheme === 'underscores') out += isLegacyCharacter(code, position, label) ? character : '_';
    else if (code === 95) out += '__';
    else if (scheme === 'dots' && code === 46) out += '_dot_';
    else if (isLegacyCharacter(code, position, label)) out += character;
    else if (scheme === 'dots') out += '__';
    else out += `_${code.toString(16)}_`;
    position++;
  }
  return out;
}
