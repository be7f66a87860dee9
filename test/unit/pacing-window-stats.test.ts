import { describe, expect, it } from 'vitest';
import { slidingWindowStats } from '../../src/pacing/window-stats.js';

const ev = (at: number, count = 1) => ({ at, count });

describe('slidingWindowStats', () => {
  it.each([
    { name: 'no events', events: [], limit: 5, want: { total: 0, maxInWindow: 0, windowsOverLimit: 0 } },
    {
      name: 'events exactly one window apart are in different windows',
      events: [ev(0, 5), ev(1000, 5)],
      limit: 5,
      want: { total: 10, maxInWindow: 5, windowsOverLimit: 0 },
    },
    {
      name: 'events 999 ms apart share a window',
      events: [ev(0, 5), ev(999, 5)],
      limit: 5,
      want: { total: 10, maxInWindow: 10, windowsOverLimit: 1 },
    },
    {
      name: 'simultaneous events are judged together',
      events: [ev(10, 3), ev(10, 3), ev(10, 3)],
      limit: 8,
      want: { total: 9, maxInWindow: 9, windowsOverLimit: 1 },
    },
    {
      name: 'unsorted input',
      events: [ev(1500, 4), ev(0, 4), ev(600, 4), ev(1200, 4)],
      limit: 8,
      // windows ending at 600 (0, 600): 8; at 1200 (600, 1200): 8; at 1500 (600, 1200, 1500): 12
      want: { total: 16, maxInWindow: 12, windowsOverLimit: 1 },
    },
    {
      name: 'a fixed-window limiter at its boundary doubles the sliding count',
      events: [ev(990, 10), ev(1010, 10)],
      limit: 10,
      want: { total: 20, maxInWindow: 20, windowsOverLimit: 1 },
    },
  ])('$name', ({ events, limit, want }) => {
    expect(slidingWindowStats(events, 1000, limit)).toEqual(want);
  });
});
