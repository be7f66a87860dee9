import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { pointInTime } from '../../src/cli/arguments.js';
import { parseTimestamp } from '../../src/ops/suppression-io.js';

describe('dates the operator writes', () => {
  it('refuses days the calendar lacks, which Date.parse would roll into the next month', () => {
    const since = pointInTime(() => 0);
    expect(() => since('2026-02-30')).toThrow(InvalidArgumentError);
    expect(() => since('2026-04-31T00:00:00Z')).toThrow(InvalidArgumentError);
    expect(since('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestamp('2026-02-30')).toBeUndefined();
    expect(parseTimestamp('2026-12-31T23:59:59Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
  });
});
