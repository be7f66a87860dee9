import { describe, expect, it } from 'vitest';
import {
  createConcurrencyTracker,
  neededConcurrency,
  PACER_WAITING_SLOTS,
} from '../../src/pacing/concurrency.js';

const SPARE = PACER_WAITING_SLOTS;

describe('neededConcurrency', () => {
  // Little's law: in flight = rate / recipientsPerCall × latency; then × 1.5 headroom, rounded up,
  // plus the slots that wait in the pacer, clamped to [min, max].
  it.each([
    { rate: 1000, latencyMs: 50, rcpt: 10, min: 1, max: 500, want: 8 + SPARE }, // 5 in flight
    { rate: 5000, latencyMs: 50, rcpt: 10, min: 1, max: 500, want: 38 + SPARE }, // 25
    { rate: 100, latencyMs: 50, rcpt: 10, min: 1, max: 500, want: 1 + SPARE }, // 0.5
    { rate: 14, latencyMs: 80, rcpt: 1, min: 1, max: 500, want: 2 + SPARE }, // 1.12
    { rate: 1000, latencyMs: 200, rcpt: 1, min: 1, max: 500, want: 300 + SPARE }, // 200
    { rate: 1000, latencyMs: 200, rcpt: 1, min: 1, max: 100, want: 100 }, // capped
    { rate: 1, latencyMs: 10, rcpt: 50, min: 20, max: 100, want: 20 }, // floor
    { rate: 1000, latencyMs: 0, rcpt: 10, min: 1, max: 500, want: SPARE }, // instant SES
    { rate: 1000, latencyMs: 50, rcpt: 0, min: 1, max: 500, want: 75 + SPARE }, // < 1 counts as 1
    { rate: Number.NaN, latencyMs: 50, rcpt: 10, min: 3, max: 500, want: 3 }, // nonsense → floor
  ])('rate $rate/s, $latencyMs ms, $rcpt rcpt/call, [$min, $max] → $want', (c) => {
    expect(
      neededConcurrency({
        ratePerSecond: c.rate,
        latencyMs: c.latencyMs,
        recipientsPerCall: c.rcpt,
        min: c.min,
        max: c.max,
      }),
    ).toBe(c.want);
  });

  it('refuses bounds that cannot hold', () => {
    const base = { ratePerSecond: 10, latencyMs: 10, recipientsPerCall: 1 };
    expect(() => neededConcurrency({ ...base, min: 0, max: 5 })).toThrow(RangeError);
    expect(() => neededConcurrency({ ...base, min: 6, max: 5 })).toThrow(RangeError);
  });
});

describe('createConcurrencyTracker', () => {
  const base = { ratePerSecond: 1000, min: 1, max: 500, initialLatencyMs: 50, initialRecipientsPerCall: 10 };
  /** `perSecond` calls a second for `seconds`, from `fromMs`; returns the end time. */
  function feed(
    tracker: ReturnType<typeof createConcurrencyTracker>,
    call: { latencyMs: number; recipients: number },
    { fromMs, seconds, perSecond }: { fromMs: number; seconds: number; perSecond: number },
  ): number {
    const gapMs = 1000 / perSecond;
    let at = fromMs;
    for (let i = 0; i < seconds * perSecond; i++, at += gapMs)
      tracker.record(call.latencyMs, call.recipients, at);
    return at;
  }

  it('starts from the initial estimates', () => {
    expect(createConcurrencyTracker(base).snapshot()).toEqual({
      latencyMs: 50,
      recipientsPerCall: 10,
      concurrency: 8 + SPARE,
    });
  });

  it('follows a slower SES upward and back down within seconds', () => {
    const tracker = createConcurrencyTracker(base);
    const at = feed(tracker, { latencyMs: 200, recipients: 10 }, { fromMs: 0, seconds: 15, perSecond: 100 });
    expect(tracker.snapshot().latencyMs).toBeGreaterThan(195);
    expect(tracker.suggested()).toBe(30 + SPARE); // 100 calls/s × 0.2 s × 1.5
    feed(tracker, { latencyMs: 50, recipients: 10 }, { fromMs: at, seconds: 15, perSecond: 100 });
    expect(tracker.suggested()).toBe(8 + SPARE);
  });

  it('moves at the same pace whatever the call rate', () => {
    const slow = createConcurrencyTracker(base);
    const fast = createConcurrencyTracker(base);
    feed(slow, { latencyMs: 150, recipients: 10 }, { fromMs: 0, seconds: 1, perSecond: 8 });
    feed(fast, { latencyMs: 150, recipients: 10 }, { fromMs: 0, seconds: 1, perSecond: 800 });
    expect(fast.snapshot().latencyMs).toBeCloseTo(slow.snapshot().latencyMs, 0);
    // A one-second burst of slow calls moves the estimate part of the way, not all of it.
    expect(fast.snapshot().latencyMs).toBeGreaterThan(60);
    expect(fast.snapshot().latencyMs).toBeLessThan(110);
  });

  it('averages recipients per call and follows a rate change', () => {
    const tracker = createConcurrencyTracker({ ...base, initialLatencyMs: 100, initialRecipientsPerCall: 1 });
    feed(tracker, { latencyMs: 100, recipients: 40 }, { fromMs: 0, seconds: 20, perSecond: 20 });
    expect(tracker.snapshot().recipientsPerCall).toBeCloseTo(40, 0);
    expect(tracker.suggested()).toBe(4 + SPARE); // 25 calls/s × 0.1 s × 1.5 = 3.75
    tracker.setRate(5000);
    expect(tracker.suggested()).toBe(19 + SPARE); // 18.75
  });

  it('ignores samples that cannot be real', () => {
    const tracker = createConcurrencyTracker({ ...base, initialLatencyMs: 40 });
    tracker.record(Number.NaN, 5, 0);
    tracker.record(-3, 5, 300);
    tracker.record(40, 0, 600);
    tracker.record(40, 10, 900);
    tracker.record(40, 10, 1200);
    expect(tracker.snapshot()).toMatchObject({ latencyMs: 40, recipientsPerCall: 10 });
  });
});
