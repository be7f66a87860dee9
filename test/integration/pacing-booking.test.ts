// The booking script on real Redis with an explicit clock: many simulated seconds in a few hundred
// milliseconds, and exact send times to assert on.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseReservation, reserveSendTime } from '../../src/pacing/booking.js';
import { slotCapFor } from '../../src/pacing/pacer.js';
import { slidingWindowStats, type CountedEvent } from '../../src/pacing/window-stats.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const W = 1030;
const SLOT = 5;
const T0 = 1_750_000_000_000; // a realistic epoch in ms, so slots have production magnitude

/** Seeded, so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pacer booking script (explicit clock)', () => {
  let redis: Redis;
  const prefix = uniquePrefix('pacing-booking');
  let keyNo = 0;
  const nextKey = () => `${prefix}:pacer-${keyNo++}`;
  const book = (key: string, recipients: number, cap: number, atMs: number, slotCap = cap) =>
    reserveSendTime(redis, key, { recipients, cap, windowMs: W, slotMs: SLOT, slotCap, nowMs: T0 + atMs });

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** Senders with a backlog: each books, waits for its time, spends `latencyMs` at SES, books again. */
  async function simulate(opts: { cap: number; senders: number; seconds: number; size: () => number }) {
    const key = nextKey();
    const freeAt = new Array<number>(opts.senders).fill(0);
    const sends: CountedEvent[] = [];
    for (;;) {
      const sender = freeAt.indexOf(Math.min(...freeAt));
      const now = freeAt[sender]!;
      if (now > opts.seconds * 1000) break;
      const n = opts.size();
      const booking = await book(key, n, opts.cap, now, slotCapFor(opts.cap, W));
      expect(booking.waitMs).toBeGreaterThanOrEqual(0);
      sends.push({ at: booking.atMs - T0, count: n });
      freeAt[sender] = now + booking.waitMs + 50;
    }
    return sends;
  }

  it.each([
    { cap: 20, senders: 12, chunks: '1..10', size: (r: () => number) => 1 + Math.floor(r() * 10) },
    {
      cap: 100,
      senders: 13,
      chunks: '1..50, mean ~10',
      size: (r: () => number) => Math.min(50, 1 + Math.floor(-Math.log(1 - r()) * 9)),
    },
  ])('keeps every window at or under $cap with chunks of $chunks and uses most of it', async (c) => {
    const random = mulberry32(42);
    const seconds = 40;
    const sends = await simulate({ cap: c.cap, senders: c.senders, seconds, size: () => c.size(random) });
    expect(slidingWindowStats(sends, W, c.cap).windowsOverLimit).toBe(0);
    // Steady state, away from the first window and the end: the ceiling is cap per W.
    const steady = sends.filter((s) => s.at >= 5000 && s.at < (seconds - 5) * 1000);
    const perWindow = (steady.reduce((sum, s) => sum + s.count, 0) / ((seconds - 10) * 1000)) * W;
    expect(perWindow / c.cap).toBeGreaterThan(0.95);
  });

  it('books at once while the window has room, then when enough has left it', async () => {
    const key = nextKey();
    expect((await book(key, 15, 20, 0)).waitMs).toBe(0);
    // 15 + 10 > 20: the earliest slot whose window no longer holds the 15 is 0 + W.
    expect((await book(key, 10, 20, 2)).atMs - T0).toBe(W);
  });

  it('lets a later, smaller request take an earlier gap without moving earlier bookings', async () => {
    const key = nextKey();
    await book(key, 15, 20, 0);
    await book(key, 10, 20, 0); // booked at W
    // 5 fits beside the 15 and its window does not reach the 10 at W.
    expect((await book(key, 5, 20, 0)).atMs - T0).toBe(0);
    // Slot 10 would put 20 + 4 in (10 - W, 10]; at W the window holds 10 + 4.
    expect((await book(key, 4, 20, 10)).atMs - T0).toBe(W);
    // 10 + 4 + 7 > 20 at W: wait for slot W to leave.
    expect((await book(key, 7, 20, 10)).atMs - T0).toBe(2 * W);
  });

  it('spreads simultaneous bookings over slots instead of piling them into one', async () => {
    const key = nextKey();
    const slots = [];
    const cap = slotCapFor(5000, W); // ~97 recipients per 5 ms slot
    for (let i = 0; i < 10; i++) slots.push((await book(key, 40, 5000, 0, cap)).atMs - T0);
    expect(slots).toEqual([0, 0, 5, 5, 10, 10, 15, 15, 20, 20]);
    // An empty slot takes any booking, however large next to the slot cap.
    expect((await book(key, 50, 5000, 0, 20)).atMs - T0).toBe(25);
  });

  it('sends an oversized message alone and then holds the pacer until the rate has caught up', async () => {
    const key = nextKey();
    await book(key, 5, 20, 0);
    const big = await book(key, 50, 20, 1);
    expect(big.atMs - T0).toBe(W); // after everything booked, with an empty window before it
    expect(big.slots).toHaveLength(3); // itself plus holds at +W and +1.5 W
    // 50 recipients at 20 per window take 2.5 windows: nothing else before W + 2.5 W.
    const next = await book(key, 1, 20, 2);
    expect(next.atMs - T0).toBe(W + 2.5 * W);
    // At rate 0.5 (a sandbox with a safety factor) every message is oversized: 1 per 2 windows.
    const slow = nextKey();
    const first = await book(slow, 1, 0.5, 0);
    const second = await book(slow, 1, 0.5, 0);
    expect(second.atMs - first.atMs).toBe(2 * W);
  });

  it('gives a cancelled booking back, holds included', async () => {
    const key = nextKey();
    await book(key, 20, 20, 0);
    const waiting = await book(key, 20, 20, 0);
    expect(waiting.atMs - T0).toBe(W);
    await releaseReservation(redis, key, waiting.slots);
    expect(await redis.hgetall(key)).toEqual({ [String(T0)]: '20' });
    const big = await book(key, 50, 20, 0);
    await releaseReservation(redis, key, big.slots);
    expect(await redis.hgetall(key)).toEqual({ [String(T0)]: '20' });
    // Giving back twice, or after the slot expired, never drives a count below zero.
    await releaseReservation(redis, key, big.slots);
    expect(await redis.hlen(key)).toBe(1);
  });

  it('drops slots once they leave every window and sets a TTL on the key', async () => {
    const key = nextKey();
    await book(key, 3, 20, 0);
    await book(key, 3, 20, 500);
    await book(key, 3, 20, W + 1);
    expect(Object.keys(await redis.hgetall(key)).sort()).toEqual([String(T0 + 500), String(T0 + W + 5)]);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(W + 1000 + 10);
  });

  it('keeps the key at least until the window of its furthest booking has passed', async () => {
    const key = nextKey();
    await book(key, 20, 20, 0);
    const later = await book(key, 20, 20, 0); // the window is full: booked at W
    expect(later.atMs - T0).toBe(W);
    // Real TTL, pretend clock: the TTL is relative to the script's `now` (T0).
    // Until the second booking (at W) leaves its window (2 W), plus the second of slack.
    expect(await redis.pttl(key)).toBeGreaterThanOrEqual(2 * W + 900);
  });
});
