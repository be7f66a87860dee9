import { describe, expect, it } from 'vitest';
import {
  createImportLineParser,
  CSV_HEADER,
  detectFormat,
  formatCsvRecord,
  formatJsonLine,
  parseTimestamp,
  splitCsvLine,
  type ParsedLine,
  type SuppressionFormat,
} from '../../src/ops/suppression-io.js';
import { textLines } from '../../src/ops/suppressions.js';
import type { SuppressionRecord } from '../../src/suppression/index.js';

/** The parser's clock: dates in the tests below stay in the future whenever they run. */
const NOW = Date.UTC(2026, 10, 15);

function parseAll(format: SuppressionFormat, text: string): ParsedLine[] {
  const parser = createImportLineParser(format, () => NOW);
  return [...textLines(text)]
    .map((line) => parser.next(line))
    .filter((p): p is ParsedLine => p !== undefined);
}

describe('splitCsvLine', () => {
  it('splits plain and quoted fields, trimming outside quotes', () => {
    expect(splitCsvLine('a@x.com,bounce')).toEqual(['a@x.com', 'bounce']);
    expect(splitCsvLine(' a@x.com , manual ')).toEqual(['a@x.com', 'manual']);
    expect(splitCsvLine('"""odd,local""@x.com",manual')).toEqual(['"odd,local"@x.com', 'manual']);
    expect(splitCsvLine('a@x.com,')).toEqual(['a@x.com', '']);
    expect(splitCsvLine('a@x.com')).toEqual(['a@x.com']);
  });

  it('rejects unbalanced quotes and text after a closing quote', () => {
    expect(splitCsvLine('"a@x.com,bounce')).toBeUndefined();
    expect(splitCsvLine('"a@x.com"x,bounce')).toBeUndefined();
  });
});

describe('parseTimestamp', () => {
  it('takes ISO 8601 dates and epoch milliseconds', () => {
    expect(parseTimestamp('2026-11-01T00:00:00Z')).toBe(Date.UTC(2026, 10, 1));
    expect(parseTimestamp('2026-11-01')).toBe(Date.UTC(2026, 10, 1));
    expect(parseTimestamp('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTimestamp(1_700_000_000_000)).toBe(1_700_000_000_000);
  });

  it('refuses anything else', () => {
    for (const bad of ['yesterday', '', '11/01/2026', '2026-13-45', '-5'])
      expect(parseTimestamp(bad)).toBeUndefined();
    expect(parseTimestamp(-1)).toBeUndefined();
    expect(parseTimestamp(1.5)).toBeUndefined();
  });
});

describe('detectFormat', () => {
  it('tells JSON lines from CSV by the first character', () => {
    expect(detectFormat('\n  {"address":"a@x.com"}')).toBe('jsonl');
    expect(detectFormat('\uFEFF{"address":"a@x.com"}')).toBe('jsonl');
    expect(detectFormat('address,reason\n')).toBe('csv');
    expect(detectFormat('')).toBe('csv');
  });
});

describe('CSV import lines', () => {
  it('skips a header and blank lines, numbering lines as an editor does', () => {
    const parsed = parseAll(
      'csv',
      '\uFEFFAddress,Reason\r\n\r\nA@X.com,Bounce\r\nbad,manual\r\nb@x.com\r\nc@x.com,spite\n',
    );
    expect(parsed).toEqual([
      { line: 3, record: { address: 'a@x.com', details: { reason: 'bounce' } } },
      { line: 4, error: 'address is not an email address' },
      { line: 5, record: { address: 'b@x.com', details: { reason: 'imported' } } },
      { line: 6, error: 'reason must be one of bounce, complaint, manual, imported' },
    ]);
  });

  it('finds columns by header name, so extra columns and another order work', () => {
    const parsed = parseAll(
      'csv',
      'reason,note,email,expires_at\ncomplaint,hello,a@x.com,2030-01-01T00:00:00Z\n',
    );
    expect(parsed).toEqual([
      {
        line: 2,
        record: { address: 'a@x.com', details: { reason: 'complaint', expiresAt: Date.UTC(2030, 0, 1) } },
      },
    ]);
  });

  it('treats a first line without an address column as data', () => {
    expect(parseAll('csv', 'a@x.com,manual\nb@x.com,manual')).toHaveLength(2);
    expect(parseAll('csv', 'foo,bar\n')).toEqual([{ line: 1, error: 'address is not an email address' }]);
  });

  it('reports a bad date by its column', () => {
    expect(parseAll('csv', `${CSV_HEADER}\na@x.com,manual,soon,\n`)).toEqual([
      { line: 2, error: 'since is not an ISO 8601 date or epoch milliseconds' },
    ]);
  });
});

describe('JSON-lines import lines', () => {
  it('reads address, reason, times and SES details, and reports bad lines', () => {
    const parsed = parseAll(
      'jsonl',
      [
        '{"address":"A@x.com","reason":"bounce","firstSeen":1700000000000,"bounceType":"Permanent","count":3}',
        '{"address":"b@x.com","expiresAt":"2030-01-01T00:00:00Z"}',
        '[1,2]',
        '{"address":42}',
        '{"address":"c@x.com","reason":7}',
        'not json',
      ].join('\n'),
    );
    expect(parsed).toEqual([
      {
        line: 1,
        record: {
          address: 'a@x.com',
          details: { reason: 'bounce', at: 1_700_000_000_000, bounceType: 'Permanent' },
        },
      },
      {
        line: 2,
        record: { address: 'b@x.com', details: { reason: 'imported', expiresAt: Date.UTC(2030, 0, 1) } },
      },
      { line: 3, error: 'not a JSON object' },
      { line: 4, error: 'address is missing' },
      { line: 5, error: 'reason is not a string' },
      { line: 6, error: 'not valid JSON' },
    ]);
  });
});

describe('export formatting', () => {
  const record: SuppressionRecord = {
    address: '"odd,local"@x.com',
    reason: 'bounce',
    firstSeen: Date.UTC(2026, 10, 1),
    lastSeen: Date.UTC(2026, 10, 2),
    count: 2,
    expiresAt: Date.UTC(2027, 0, 1),
    diagnosticCode: 'smtp; 550 5.1.1 user unknown',
  };

  it('writes CSV rows that parse back to the same entry', () => {
    const row = formatCsvRecord(record);
    expect(row).toBe('"""odd,local""@x.com",bounce,2026-11-01T00:00:00.000Z,2027-01-01T00:00:00.000Z');
    expect(parseAll('csv', `${CSV_HEADER}\n${row}`)).toEqual([
      {
        line: 2,
        record: {
          address: record.address,
          details: { reason: 'bounce', at: record.firstSeen, expiresAt: record.expiresAt },
        },
      },
    ]);
  });

  it('writes JSON lines that keep the details', () => {
    const [parsed] = parseAll('jsonl', formatJsonLine(record));
    expect(parsed).toEqual({
      line: 1,
      record: {
        address: record.address,
        details: {
          reason: 'bounce',
          at: record.firstSeen,
          expiresAt: record.expiresAt,
          diagnosticCode: record.diagnosticCode,
        },
      },
    });
  });
});

describe('textLines', () => {
  it('splits on newlines without a phantom last line', () => {
    expect([...textLines('a\nb\n')]).toEqual(['a', 'b']);
    expect([...textLines('a\n\nb')]).toEqual(['a', '', 'b']);
    expect([...textLines('')]).toEqual([]);
  });
});
