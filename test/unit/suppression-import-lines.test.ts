// An import line whose expiry is already past names the reason on its line: written, the entry would
// suppress nobody (and would end a live manual entry of the same address).
import { describe, expect, it } from 'vitest';
import { createImportLineParser } from '../../src/ops/suppression-io.js';

const NOW = Date.UTC(2026, 10, 15);

describe('import lines with an expiry already past', () => {
  it('refuses them on their line, in CSV and JSON lines, and takes a future one', () => {
    const csv = createImportLineParser('csv', () => NOW);
    expect(csv.next('address,reason,since,expires_at')).toBeUndefined();
    expect(csv.next('old@example.com,manual,,2026-11-01')).toEqual({
      line: 2,
      error: 'expiresAt 2026-11-01 is past: an expired entry suppresses nobody',
    });
    expect(csv.next(`now@example.com,manual,,${NOW}`)).toMatchObject({ line: 3, error: /is past/ });
    expect(csv.next('soon@example.com,manual,,2026-12-01')).toEqual({
      line: 4,
      record: {
        address: 'soon@example.com',
        details: { reason: 'manual', expiresAt: Date.UTC(2026, 11, 1) },
      },
    });
    const jsonl = createImportLineParser('jsonl', () => NOW);
    expect(jsonl.next('{"address":"old@example.com","expiresAt":"2026-01-01T00:00:00Z"}')).toMatchObject({
      line: 1,
      error: /is past/,
    });
  });
});
