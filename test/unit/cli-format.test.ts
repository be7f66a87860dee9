import { Readable } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { duration, pointInTime, positiveInt } from '../../src/cli/arguments.js';
import { formatDuration, formatTime, table } from '../../src/cli/output.js';
import { createProgress, formatProgress } from '../../src/cli/progress.js';
import { createSesCaller } from '../../src/cli/ses-calls.js';
import { sniffFormat } from '../../src/cli/import-format.js';
import { formatFromName } from '../../src/cli/suppression-files.js';
import { describeEvent } from '../../src/cli/timeline-format.js';

describe('CLI text', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [42_000, '42s'],
    [192_000, '3m 12s'],
    [7_500_000, '2h 5m'],
    [3_600_000, '1h'],
    [97_200_000, '1d 3h'],
  ])('formatDuration(%i) is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('prints times to the second, and a dash for none', () => {
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02 03:04:05Z');
    expect(formatTime(undefined)).toBe('-');
  });

  it('aligns table columns without trailing spaces', () => {
    expect(
      table(
        ['A', 'BB'],
        [
          ['long', 'x'],
          ['s', ''],
        ],
      ),
    ).toBe('A     BB\nlong  x\ns');
  });

  it('describes each timeline event in one line', () => {
    expect(
      describeEvent({
        type: 'ses-call',
        at: 0,
        outcome: 'transient',
        recipients: 2,
        chunk: 1,
        error: 'busy',
      }),
    ).toBe('SES call transient (chunk 1, 2 recipients): busy');
    expect(
      describeEvent({
        type: 'ses-event',
        at: 0,
        event: 'Bounce',
        sesMessageId: 'S',
        recipients: ['a@x', 'b@x', 'c@x', 'd@x'],
        detail: 'Permanent/General',
      }),
    ).toBe('SES Bounce (Permanent/General) for a@x, b@x, c@x and 1 more');
  });

  it('draws a bar when the total is known and a count otherwise', () => {
    expect(formatProgress('importing', 'bytes', 50, 200)).toBe(
      `importing [${'#'.repeat(8)}${'-'.repeat(22)}]  25% 50/200 bytes`,
    );
    expect(formatProgress('importing from SES', 'entries', 1500, undefined, '(2 pages)')).toBe(
      'importing from SES: 1,500 entries (2 pages)',
    );
  });

  it('writes plain progress lines at most every few seconds when stderr is not a terminal', () => {
    let clock = 0;
    const written: string[] = [];
    const stream = {
      isTTY: false,
      write: (text: string) => written.push(text),
    } as unknown as NodeJS.WriteStream;
    const progress = createProgress({ label: 'exporting', unit: 'entries', stream, now: () => clock });
    progress.update(1, 10);
    clock = 5000;
    progress.update(5, 10);
    clock = 6000;
    progress.update(6, 10);
    progress.finish();
    expect(written).toEqual([`exporting [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 5/10 entries\n`]);
  });

  it('picks the import format from the file name', () => {
    expect(formatFromName('list.jsonl')).toBe('jsonl');
    expect(formatFromName('list.NDJSON')).toBe('jsonl');
    expect(formatFromName('list.csv')).toBe('csv');
    // No extension that names a format: the first line decides (sniffFormat).
    expect(formatFromName('-')).toBeUndefined();
    expect(formatFromName('list.txt')).toBeUndefined();
    expect(formatFromName('bounces')).toBeUndefined();
  });

  it('takes an unnamed import format from the first non-blank line and keeps every line', async () => {
    const lines = (...items: string[]): AsyncIterable<string> => Readable.from(items);
    const collect = async (iterable: AsyncIterable<string>) => {
      const all: string[] = [];
      for await (const line of iterable) all.push(line);
      return all;
    };
    const jsonl = await sniffFormat(
      lines('', '\uFEFF{"address":"a@example.com"}', '{"address":"b@example.com"}'),
    );
    expect(jsonl.format).toBe('jsonl');
    expect(await collect(jsonl.lines)).toEqual([
      '',
      '\uFEFF{"address":"a@example.com"}',
      '{"address":"b@example.com"}',
    ]);
    const csv = await sniffFormat(lines('address,reason', 'a@example.com,bounce'));
    expect(csv.format).toBe('csv');
    expect(await collect(csv.lines)).toEqual(['address,reason', 'a@example.com,bounce']);
    const empty = await sniffFormat(lines('', ' '));
    expect(empty.format).toBe('csv');
    expect(await collect(empty.lines)).toEqual(['', ' ']);
  });
});

describe('CLI option parsers', () => {
  it('takes a date or a duration ago for --since', () => {
    const since = pointInTime(() => 10 * 86_400_000);
    expect(since('7d')).toBe(3 * 86_400_000);
    expect(since('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    expect(() => since('last week')).toThrow(InvalidArgumentError);
  });

  it('refuses what is not a positive whole number or duration', () => {
    expect(positiveInt('25')).toBe(25);
    for (const bad of ['0', '-1', '1.5', 'ten', ''])
      expect(() => positiveInt(bad)).toThrow(InvalidArgumentError);
    expect(duration('30d')).toBe(30 * 86_400_000);
    expect(() => duration('0s')).toThrow(InvalidArgumentError);
  });
});

describe('SES management calls', () => {
  const throttled = Object.assign(new Error('Maximum sending rate exceeded.'), {
    name: 'TooManyRequestsException',
    $metadata: { httpStatusCode: 429 },
  });

  it('paces calls to the rate and waits out a throttling answer', async () => {
    let clock = 0;
    const waits: number[] = [];
    const caller = createSesCaller({
      ratePerSecond: 2,
      now: () => clock,
      wait: (ms) => {
        waits.push(ms);
        clock += ms;
        return Promise.resolve();
      },
    });
    let calls = 0;
    const send = () => (++calls === 2 ? Promise.reject(throttled) : Promise.resolve(calls));
    expect(await caller.call(send)).toBe(1);
    expect(await caller.call(send)).toBe(3);
    // 500 ms between slots; the throttled second call backs off 1 s before its retry.
    expect(waits).toEqual([500, 1000]);
  });

  it('does not retry what a retry cannot fix', async () => {
    const caller = createSesCaller({ ratePerSecond: 1000, wait: () => Promise.resolve() });
    const rejected = Object.assign(new Error('not verified'), {
      name: 'MessageRejected',
      $metadata: { httpStatusCode: 400 },
    });
    let calls = 0;
    await expect(caller.call(() => (calls++, Promise.reject(rejected)))).rejects.toThrow('not verified');
    expect(calls).toBe(1);
  });
});
