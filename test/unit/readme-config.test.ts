import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_ERRORS } from '../../src/admin/errors.js';
import { ERROR_CATALOG } from '../../src/shared/errors.js';
import { WEBHOOK_ERRORS } from '../../src/webhook/errors.js';

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

describe("README's error table", () => {
  const rows = new Map(
    [...readme.matchAll(/^\| `([A-Z_]+)` +\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|$/gm)].map((match) => [
      match[1]!,
      match.slice(2).map((cell) => cell.trim()),
    ]),
  );
  interface Spec {
    doc: string;
    smtp?: { code: number; enhanced: string };
    http?: number;
    status?: number;
  }
  const catalogs: [string, Spec][] = [
    ...Object.entries<Spec>(ERROR_CATALOG),
    ...Object.entries<Spec>(WEBHOOK_ERRORS),
    ...Object.entries<Spec>(ADMIN_ERRORS),
  ];

  it.each(catalogs)('lists %s with its SMTP reply and HTTP status', (code, spec) => {
    const row = rows.get(code);
    expect(row, `no README row for ${code}`).toBeDefined();
    const [smtp, http] = row!;
    expect(smtp).toBe(spec.smtp ? `${spec.smtp.code} ${spec.smtp.enhanced}` : '');
    expect(http).toBe(String(spec.http ?? spec.status ?? ''));
  });

  it('lists no code the catalogs do not have', () => {
    const known = new Set(catalogs.map(([code]) => code));
    expect([...rows.keys()].filter((code) => !known.has(code))).toEqual([]);
  });
});
