import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/shared/errors.js';

const schema = fs.readFileSync(new URL('../../src/config/schema.ts', import.meta.url), 'utf8');
const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays in step with the code', () => {
  const keys = [...schema.matchAll(/^ {4}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]!);

  it('finds the configuration keys', () => {
    expect(keys.length).toBeGreaterThan(60);
  });

  it.each(keys)('documents %s in the configuration table', (key) => {
    expect(readme).toContain(`\`${key}\``);
  });

  it('pins the error catalog: unique SMTP replies per code and a doc line each', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      expect(spec.doc.length, code).toBeGreaterThan(10);
    }
    expect(new Set(Object.keys(ERROR_CATALOG)).size).toBe(Object.keys(ERROR_CATALOG).length);
  });
});
