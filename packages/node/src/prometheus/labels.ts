import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { reportOnce } from '@otelkit/core';
import { escapeName, translateLabelName, type EscapingScheme, type TranslationStrategy } from './names.js';

/** Resolved labels of one series: final names and values, in order (reused between series). */
export type ResolvedLabels = { names: string[]; values: string[]; count: number };

function valueText(value: AttributeValue): string {
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

const MAX_REMEMBERED_NAMES = 10_000;

/** Whether `name` is one of the resolved constant labels (their arrays may hold stale slots past `count`). */
function isConstant(constants: ResolvedLabels, name: string): boolean {
  const at = constants.names.indexOf(name);
  return at >= 0 && at < constants.count;
}

/**
 * Turns attributes into label names and values for one exposition: names translated (strategy) then
 * escaped (negotiated scheme), each key once per exposition. Keys whose names come out equal
 * (`a.b` and `a_b` under underscores) share one label, their values joined by `;` in key order, as
 * the specification says (a duplicate label would make the whole scrape invalid). An attribute whose
 * name otelkit writes itself (`le`, the scope and resource labels) is left out, with one diagnostic.
 */
export class LabelResolver {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly strategy: TranslationStrategy,
    private readonly scheme: EscapingScheme,
  ) {}

  /** The label name of an attribute key in this exposition. */
  nameOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = escapeName(translateLabelName(key, this.strategy), this.scheme, true);
      if (this.names.size < MAX_REMEMBERED_NAMES) this.names.set(key, name);
    }
    return name;
  }

  /** Constant labels (scope, resource), resolved once per group. */
  constants(attributes: Attributes): ResolvedLabels {
    const out: ResolvedLabels = { names: [], values: [], count: 0 };
    this.resolve(attributes, undefined, undefined, out);
    return out;
  }

  /**
   * Resolves a point's attributes into `out`, followed by the constant labels; `reserved` is a name
   * otelkit writes itself after them (`le`).
   */
  resolve(attributes: Attributes, constants: ResolvedLabels | undefined, reserved: string | undefined, out: ResolvedLabels): void {
    let count = 0;
    let duplicate = false;
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined) continue;
      const name = this.nameOf(key);
      if (name === reserved || (constants !== undefined && isConstant(constants, name))) {
        reportOnce(`prometheus.reserved-label.${name}`, `attribute "${key}" would collide with otelkit's own "${name}" label and is left out of /metrics`);
        continue;
      }
      for (let i = 0; i < count; i++) if (out.names[i] === name) duplicate = true;
      out.names[count] = name;
      out.values[count] = valueText(value);
      count++;
    }
    if (duplicate) count = this.merge(attributes, constants, reserved, out);
    if (constants !== undefined) {
      for (let i = 0; i < constants.count; i++) {
        out.names[count] = constants.names[i]!;
        out.values[count] = constants.values[i]!;
        count++;
      }
    }
    out.count = count;
  }

  private merge(attributes: Attributes, constants: ResolvedLabels | undefined, reserved: string | undefined, out: ResolvedLabels): number {
    const merged = new Map<string, Array<{ key: string; value: string }>>();
    for (const key of Object.keys(attributes).sort()) {
      const value = attributes[key];
      if (value === undefined) continue;
      const name = this.nameOf(key);
      if (name === reserved || (constants !== undefined && isConstant(constants, name))) continue;
      const list = merged.get(name) ?? [];
      list.push({ key, value: valueText(value) });
      merged.set(name, list);
    }
    let count = 0;
    for (const [name, list] of merged) {
      out.names[count] = name;
      out.values[count] = list.map((entry) => entry.value).join(';');
      count++;
    }
    return count;
  }
}
