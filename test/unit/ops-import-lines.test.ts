import { describe, expect, it } from 'vitest';
import { createImportLineParser, type ParsedLine } from '../../src/ops/suppression-io.js';

const NOW = Date.UTC(2026, 0, 15);

function parseAll(format: 'csv' | 'jsonl', lines: string[]): (ParsedLine | undefined)[] {
  const parser = createImportLineParser(format, () => NOW);
  return lines.map((line) => parser.next(line));
}

describe('import lines: dates', () => {
  it('clamps a since in the future to now, so later real events are not taken as older', () => {
    const [csv] = parseAll('csv', ['future@example.com,bounce']);
    expect(csv).toBeDefined();
    const [, row] = parseAll('csv', ['address,reason,since', 'future@example.com,manual,2999-01-01']);
    expect(row).toEqual({
      line: 2,
      record: { address: 'future@example.com', details: { reason: 'manual', at: NOW } },
    });
    const [json] = parseAll('jsonl', [`{"address":"f@example.com","firstSeen":${NOW + 86_400_000}}`]);
    expect(json).toMatchObject({ record: { details: { at: NOW } } });
  });

  it('refuses epoch numbers in seconds or microseconds, saying which, and takes milliseconds', () => {
    const rows = parseAll('csv', [
      'address,reason,since,expires_at',
      'secs@example.com,bounce,1767225600,',
      'micro@example.com,bounce,1767225600000000,',
      'ms@example.com,bounce,1767225600000,',
      'exp@example.com,bounce,,1767225600',
    ]);
    expect(rows.slice(1)).toEqual([
      {
        line: 2,
        error: 'since 1767225600 looks like epoch seconds; give epoch milliseconds or an ISO 8601 date',
      },
      {
        line: 3,
        error:
          'since 1767225600000000 looks like epoch microseconds; give epoch milliseconds or an ISO 8601 date',
      },
      {
        line: 4,
        record: { address: 'ms@example.com', details: { reason: 'bounce', at: 1_767_225_600_000 } },
      },
      {
        line: 5,
        error: 'expiresAt 1767225600 looks like epoch seconds; give epoch milliseconds or an ISO 8601 date',
      },
    ]);
    const [json] = parseAll('jsonl', ['{"address":"j@example.com","since":1767225600}']);
    expect(json).toMatchObject({ error: expect.stringContaining('looks like epoch seconds') });
  });
});

describe('import lines: comments and headers', () => {
  it('skips # comment lines, before the header too, without counting them as invalid', () => {
    const rows = parseAll('csv', [
      '# exported from the old relay',
      'address,reason',
      '# hard bounces',
      'a@example.com,bounce',
      '  # indented note',
    ]);
    expect(rows).toEqual([
      undefined,
      undefined,
      undefined,
      { line: 4, record: { address: 'a@example.com', details: { reason: 'bounce' } } },
      undefined,
    ]);
    expect(parseAll('jsonl', ['# note', '{"address":"b@example.com"}'])[0]).toBeUndefined();
  });

  it('takes "Email Address", "E-mail" and "email" as the address column header', () => {
    for (const header of ['Email Address', 'E-mail', 'EMAIL', 'Email Address,Reason']) {
      const [first, row] = parseAll('csv', [header, 'x@example.com']);
      expect(first).toBeUndefined();
      expect(row).toMatchObject({ line: 2, record: { address: 'x@example.com' } });
    }
  });
});
