import { describe, expect, it } from 'vitest';
import { createRepeatFilter, errorShape } from '../../src/shared/log-repeats.js';

describe('repeated log lines', () => {
  it('treats messages that differ only in numbers as the same failure', () => {
    expect(errorShape('All sentinels are unreachable. Retrying from scratch after 10ms.')).toBe(
      errorShape('All sentinels are unreachable. Retrying from scratch after 440ms.'),
    );
    expect(errorShape('connect ECONNREFUSED')).not.toBe(errorShape('Command timed out'));
  });

  it('logs the first of a kind, holds back repeats for the interval, then logs with their count', () => {
    const filter = createRepeatFilter(10_000);
    expect(filter.admit('CROSSSLOT Keys in request', 0)).toEqual({ log: true, repeated: 0 });
    for (let i = 1; i <= 500; i++)
      expect(filter.admit('CROSSSLOT Keys in request', i)).toEqual({ log: false });
    expect(filter.admit('another failure', 600)).toEqual({ log: true, repeated: 0 });
    expect(filter.admit('CROSSSLOT Keys in request', 10_000)).toEqual({ log: true, repeated: 500 });
    expect(filter.admit('CROSSSLOT Keys in request', 10_001)).toEqual({ log: false });
  });
});
