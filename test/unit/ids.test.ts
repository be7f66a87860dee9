import { describe, expect, it } from 'vitest';
import { newQueueId } from '../../src/shared/ids.js';

describe('newQueueId', () => {
  it('is 9 base-36 time characters then 12 random hex characters, all upper case', () => {
    expect(newQueueId(Date.UTC(2026, 10, 22))).toMatch(/^[0-9A-Z]{9}[0-9A-F]{12}$/);
  });

  it('stays unique across many draws, including refills of the random pool', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 5000 }, () => newQueueId(at)));
    expect(ids.size).toBe(5000);
  });

  it('sorts by the time it was made', () => {
    const earlier = newQueueId(1_700_000_000_000);
    const later = newQueueId(1_700_000_000_001);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });
});
