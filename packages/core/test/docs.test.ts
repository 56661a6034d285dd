import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '@otelkit/core';

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md'), 'utf8');

describe('README metric catalog', () => {
  it('documents every metric of the catalog, with its unit', () => {
    for (const metric of METRIC_CATALOG) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${metric.name}\` `));
      expect(row, metric.name).toBeDefined();
      expect(row, metric.name).toContain(`\`${metric.unit}\``);
    }
  });
});
