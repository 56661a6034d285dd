import type { Attributes } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { serializePrometheus, type EscapingScheme, type TranslationStrategy } from '@otelkit/node';
import { decodeMetricFamilies, parseOpenMetrics } from '../../../../test-support/exposition-parsers.js';
import { promtoolCheckMetrics } from '../support.js';
import { prng } from '../../../../test-support/prng.js';

// Property test: thousands of random metric names, label names and values (unicode, quotes, `\`,
// newlines, leading digits, `a.b` beside `a_b`, NaN, ±Inf, extreme floats) give output that every
// independent parser accepts, in every format and escaping, and the values survive the trip.

const CHARACTERS = [...'abcxyzABZ0189_.-/: "\\\n\t{}=,#éü温度😀\u0000'];
const NUMBERS = [NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, 0, 1e-300, 1e300, 0.1, 42];

const METRICS = 2500;
const LABELS_PER_POINT = 3;

type Generated = { resourceMetrics: ResourceMetrics; gauges: Array<{ index: number; points: Array<{ attributes: Attributes; value: number }> }>; randomItems: number };

function generate(seed: number): Generated {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let randomItems = 0;
  const text = (max: number): string => {
    randomItems++;
    let out = '';
    const length = 1 + Math.floor(random() * max);
    for (let i = 0; i < length; i++) out += pick(CHARACTERS);
    return out;
  };
  const number = (): number => (random() < 0.5 ? pick(NUMBERS) : (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
  const attributes = (): Attributes => {
    const result: Attributes = {};
    for (let i = 0; i < LABELS_PER_POINT; i++) result[random() < 0.2 ? pick(['a.b', 'a_b', 'le', 'otel_scope_name']) : text(8)] = text(12);
    randomItems += LABELS_PER_POINT;
    return result;
  };
  const time: [number, number] = [1_700_000_000, 0];
  const metrics: MetricData[] = [];
  const gauges: Generated['gauges'] = [];
  for (let index = 0; index < METRICS; index++) {
    // A unique prefix keeps one family per metric, so each can be found again; the rest is random.
    const name = `m${index}${pick(['.', '_', '-', ' ', '温'])}${text(10)}`;
    const descriptor = { name, description: text(20), unit: pick(['s', 'By', '1', '{request}', '', 'ms/s']), valueType: 1 };
    const kind = random();
    if (kind < 0.5) {
      const points = [{ attributes: attributes(), value: number() }, { attributes: { point: 'second' }, value: number() }];
      randomItems += 2;
      gauges.push({ index, points });
      metrics.push({ descriptor, dataPointType: 2, aggregationTemporality: 1, dataPoints: points.map((p) => ({ startTime: time, endTime: time, ...p })) } as unknown as MetricData);
    } else if (kind < 0.8) {
      const value = random() < 0.1 ? Infinity : Math.abs(number()) || 0;
      metrics.push({
        descriptor,
        dataPointType: 3,
        isMonotonic: true,
        aggregationTemporality: 1,
        dataPoints: [{ startTime: time, endTime: time, attributes: attributes(), value: Number.isNaN(value) ? 0 : value }],
      } as unknown as MetricData);
    } else {
      const counts = [Math.floor(random() * 5), Math.floor(random() * 5), Math.floor(random() * 5)];
      const count = counts.reduce((a, b) => a + b, 0);
      metrics.push({
        descriptor,
        dataPointType: 0,
        aggregationTemporality: 1,
        dataPoints: [
          {
            startTime: time,
            endTime: time,
            attributes: attributes(),
            value: { buckets: { boundaries: [1e-9, 7.5], counts }, count, sum: count === 0 ? 0 : Math.abs(number()) || 1, min: 0, max: 1 },
          },
        ],
      } as unknown as MetricData);
    }
  }
  const resourceMetrics = {
    resource: { attributes: { 'service.name': text(10), [text(6)]: text(10), 'a.b': 'x', a_b: 'y' } },
    scopeMetrics: [{ scope: { name: text(10), version: text(4) }, metrics }],
  } as unknown as ResourceMetrics;
  return { resourceMetrics, gauges, randomItems };
}

const generated = generate(20261202);
const STRATEGIES: TranslationStrategy[] = ['UnderscoreEscapingWithSuffixes', 'NoUTF8EscapingWithSuffixes'];
const TEXT_ESCAPINGS: EscapingScheme[] = ['underscores', 'dots', 'values'];

function sameNumber(parsed: number | string, original: number): boolean {
  if (Number.isNaN(original)) return parsed === 'nan' || parsed === 'NaN';
  if (original === Infinity) return parsed === 'inf' || parsed === Infinity;
  if (original === -Infinity) return parsed === '-inf' || parsed === -Infinity;
  return parsed === original || (Object.is(original, -0) && parsed === 0);
}

describe(`random names and values (${generated.randomItems} random names and values)`, () => {
  it('are at least 10k', () => {
    expect(generated.randomItems).toBeGreaterThanOrEqual(10_000);
  });

  for (const strategy of STRATEGIES) {
    for (const escaping of TEXT_ESCAPINGS) {
      it(`OpenMetrics, ${strategy}, escaping=${escaping}: prometheus_client accepts it and every gauge value and label value survives`, async () => {
        const { body } = await serializePrometheus(generated.resourceMetrics, {
          accept: `application/openmetrics-text;version=1.0.0;escaping=${escaping}`,
          translationStrategy: strategy,
        });
        const families = parseOpenMetrics(body.toString());
        expect(families.length).toBeGreaterThan(METRICS / 2);
        const byPrefix = new Map<number, (typeof families)[number]>();
        for (const family of families) {
          const match = /^(?:U__)?m(\d+)/.exec(family.name);
          if (match) byPrefix.set(Number(match[1]), family);
        }
        for (const gauge of generated.gauges) {
          const family = byPrefix.get(gauge.index);
          expect(family, `gauge ${gauge.index}`).toBeDefined();
          expect(family!.samples).toHaveLength(gauge.points.length);
          gauge.points.forEach((point, i) => {
            expect(sameNumber(family!.samples[i]!.value, point.value), `${point.value} vs ${family!.samples[i]!.value}`).toBe(true);
            const values = Object.values(family!.samples[i]!.labels).join('\u0001');
            for (const [key, value] of Object.entries(point.attributes)) {
              if (key === 'le' || key === 'otel_scope_name') continue;
              expect(values).toContain(String(value));
            }
          });
        }
      });

      it(`text 0.0.4, ${strategy}, escaping=${escaping}: promtool accepts it`, async () => {
        const { body } = await serializePrometheus(generated.resourceMetrics, { accept: `text/plain;version=0.0.4;escaping=${escaping}`, translationStrategy: strategy });
        const result = promtoolCheckMetrics(body.toString());
        // promtool exits 1 for lint findings too (e.g. a counter without _total under NoTranslation); a parse error is what matters.
        expect(result.output).not.toMatch(/error while linting|text format parsing error|parse/i);
      });
    }
  }

  for (const escaping of [...TEXT_ESCAPINGS, 'allow-utf-8'] as EscapingScheme[]) {
    it(`protobuf, escaping=${escaping}: the official metrics.proto decodes it, names valid for the scheme, labels unique`, async () => {
      const { body, contentType } = await serializePrometheus(generated.resourceMetrics, {
        accept: `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=${escaping}`,
        translationStrategy: 'NoUTF8EscapingWithSuffixes',
      });
      expect(contentType).toContain(`escaping=${escaping}`);
      const families = decodeMetricFamilies(body);
      expect(families.length).toBeGreaterThan(METRICS / 2);
      for (const family of families) {
        if (escaping !== 'allow-utf-8') expect(family.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        for (const metric of family.metric) {
          const names = metric.label.map((label) => label.name);
          expect(new Set(names).size).toBe(names.length);
          if (escaping !== 'allow-utf-8') for (const name of names) expect(name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
        }
      }
      if (escaping === 'allow-utf-8') {
        const original = generated.resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.dataPointType === 2)!.descriptor.name;
        expect(families.some((family) => family.name === original || family.name.startsWith(original))).toBe(true);
      }
    });
  }
});
