// The pacer in real time on real Redis: several pacers (as separate workers would) sharing one key,
// rate changes, oversized messages, cancellation and shutdown.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neededConcurrency } from '../../src/pacing/concurrency.js';
import { createPacer, MAX_BOOKING_AHEAD_MS, type Pacer } from '../../src/pacing/pacer.js';
import { slidingWindowStats, type CountedEvent } from '../../src/pacing/window-stats.js';
import { deleteKeys, startPrivateRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const RATE = 20;
/**
 * A sender that wakes later than two thirds of the margin books again and its slot goes unused, so on
 * a shared two-core machine the scheduler, not the pacer, would decide the throughput test with the
 * 25 ms default. Three booked windows still fit in the three seconds measured.
 */
const MARGIN_MS = 100;

describe('pacer (real time, shared Redis)', () => {
  const prefix = uniquePrefix('pacing');
  let redis: Redis;
  let keyNo = 0;
  const nextKey = () => `${prefix}:pacer-${keyNo++}`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('keeps every sliding second at or under the rate with four pacers on one key', async () => {
    const key = nextKey();
    const connections = Array.from({ length: 4 }, () => new Redis(TEST_REDIS_URL));
    const pacers = connections.map((conn) =>
      createPacer({ redis: conn, key, ratePerSecond: RATE, marginMs: MARGIN_MS }),
    );
    // Sized as a worker would be: a fake SES answers at once, so this is the pacer's waiting slots.
    const total = neededConcurrency({
      ratePerSecond: RATE,
      latencyMs: 0,
      recipientsPerCall: 5.5,
      min: 4,
      max: 40,
    });
    // Connected before the clock starts, as a running worker's connection would be.
    await Promise.all(connections.map((c) => c.ping()));
    const admitted: CountedEvent[] = [];
    const start = Date.now();
    const runMs = 3000;
    const loop = async (pacer: Pacer) => {
      while (Date.now() < start + runMs + 100) {
        const n = 1 + Math.floor(Math.random() * 10);
        try {
          await pacer.acquire(n);
        } catch {
          return; // closed at the end of the run
        }
        admitted.push({ at: Date.now(), count: n });
      }
    };
    const loops = Array.from({ length: total }, (_, i) => loop(pacers[i % pacers.length]!));
    const allDone = Promise.all(loops);
    await Promise.race([allDone, new Promise((resolve) => setTimeout(resolve, runMs + 200))]);
    await Promise.all(pacers.map((p) => p.close()));
    await allDone;
    connections.forEach((c) => c.disconnect());

    const stats = slidingWindowStats(admitted, 1000, RATE);
    expect(stats.windowsOverLimit, JSON.stringify(stats)).toBe(0);
    // Three full windows from the first admission: the rate, not start-up, is what is measured. A
    // booking is never split, so a window can end up to one booking (10 of the 60) short: 0.8.
    const first = Math.min(...admitted.map((a) => a.at));
    const inRun = admitted.filter((a) => a.at < first + runMs).reduce((sum, a) => sum + a.count, 0);
    expect(
      inRun / ((runMs / 1000) * RATE),
      JSON.stringify(pacers.map((p) => p.stats())),
    ).toBeGreaterThanOrEqual(0.8);
    // Several pacers shared the key (bookings are first come, first served, so not necessarily all).
    expect(pacers.filter((p) => p.stats().acquired > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('applies a higher rate at once and a lower one to the next booking', async () => {
    const pacer = createPacer({ redis, key: nextKey(), ratePerSecond: 10 });
    await Promise.all(Array.from({ length: 10 }, () => pacer.acquire(1)));
    pacer.setRate(40);
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: 30 }, () => pacer.acquire(1)));
    // Waiting for room would take about a window; half of one leaves a loaded machine room to stall.
    expect(Date.now() - startedAt).toBeLessThan(pacer.windowMs / 2);
    pacer.setRate(10);
    // The window now holds 40: one more waits for it to pass.
    const waitStart = Date.now();
    await pacer.acquire(1);
    expect(Date.now() - waitStart).toBeGreaterThanOrEqual(pacer.windowMs - 50);
    await pacer.close();
  });

  it('applies a lower rate to every booking more than MAX_BOOKING_AHEAD_MS ahead', async () => {
    const key = nextKey();
    const pacer = createPacer({ redis, key, ratePerSecond: 20 });
    const admitted: CountedEvent[] = [];
    // 80 waiting callers book 4 s of sends at 20/s, as several workers' waiting slots would. The
    // last 20 are more than MAX_BOOKING_AHEAD_MS ahead for a whole second: the rate is lowered then.
    const all = Promise.all(
      Array.from({ length: 80 }, async () => {
        await pacer.acquire(1);
        admitted.push({ at: Date.now(), count: 1 });
      }),
    );
    await waitFor(
      async () => Object.values(await redis.hgetall(key)).reduce((n, v) => n + Number(v), 0) >= 80,
      {
        what: 'every caller booked',
      },
    );
    const loweredAt = Date.now();
    pacer.setRate(10);
    await all;
    await pacer.close();
    // Bookings up to MAX_BOOKING_AHEAD_MS ahead keep their times; every window after them (and
    // after the window that holds the last of them) is paced at the new rate.
    const settled = loweredAt + MAX_BOOKING_AHEAD_MS + pacer.windowMs;
    const later = admitted.filter((event) => event.at > settled);
    expect(later.length).toBeGreaterThan(0);
    const stats = slidingWindowStats(later, 1000, 10);
    expect(stats.windowsOverLimit, JSON.stringify(stats)).toBe(0);
    expect(pacer.stats().deferred).toBeGreaterThan(0);
  });

  it('gives an acquired booking back when the send does not happen', async () => {
    const key = nextKey();
    const pacer = createPacer({ redis, key, ratePerSecond: 5 });
    const booking = await pacer.acquire(5);
    expect(Object.values(await redis.hgetall(key))).toEqual(['5']);
    await booking.giveBack();
    await booking.giveBack();
    expect(await redis.hlen(key)).toBe(0);
    // The window is free again: the next send need not wait for it.
    const startedAt = Date.now();
    await pacer.acquire(5);
    expect(Date.now() - startedAt).toBeLessThan(pacer.windowMs / 2);
    await pacer.close();
  });

  it('admits a 50-recipient message at rate 20 when the window is empty', async () => {
    const pacer = createPacer({ redis, key: nextKey(), ratePerSecond: RATE });
    const startedAt = Date.now();
    await pacer.acquire(50);
    expect(Date.now() - startedAt).toBeLessThan(pacer.windowMs / 2);
    expect(pacer.stats()).toMatchObject({ acquired: 1, recipients: 50 });
    await pacer.close();
  });

  it('gives the booking back when the caller aborts while waiting', async () => {
    const key = nextKey();
    const pacer = createPacer({ redis, key, ratePerSecond: 5 });
    await pacer.acquire(5);
    const booked = await redis.hlen(key);
    await expect(pacer.acquire(5, AbortSignal.timeout(50))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await redis.hlen(key)).toBe(booked);
    const aborted = new AbortController();
    aborted.abort(new Error('job cancelled'));
    await expect(pacer.acquire(1, aborted.signal)).rejects.toThrow('job cancelled');
    await pacer.close();
  });

  it('rejects waiting callers on close, gives their bookings back and refuses new ones', async () => {
    const key = nextKey();
    const pacer = createPacer({ redis, key, ratePerSecond: 5 });
    await pacer.acquire(5);
    const waiting = [pacer.acquire(3), pacer.acquire(2)];
    const settled = Promise.allSettled(waiting);
    // Both are booked once the key holds their slot.
    const closedAt = Date.now();
    await pacer.close();
    const results = await settled;
    expect(Date.now() - closedAt).toBeLessThan(500);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(Object.values(await redis.hgetall(key))).toEqual(['5']);
    await expect(pacer.acquire(1)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses nonsense counts and rates', async () => {
    const pacer = createPacer({ redis, key: nextKey(), ratePerSecond: RATE });
    await expect(pacer.acquire(0)).rejects.toThrow(RangeError);
    await expect(pacer.acquire(2.5)).rejects.toThrow(RangeError);
    expect(() => pacer.setRate(0)).toThrow(RangeError);
    expect(() => createPacer({ redis, key: 'x', ratePerSecond: Number.POSITIVE_INFINITY })).toThrow(
      RangeError,
    );
    await pacer.close();
  });

  it('reloads its script after Redis forgot it', async () => {
    const server = await startPrivateRedis();
    const conn = new Redis(server.url);
    try {
      const pacer = createPacer({ redis: conn, key: 'pacer', ratePerSecond: RATE });
      await pacer.acquire(1);
      await conn.script('FLUSH');
      await pacer.acquire(1);
      expect(pacer.stats().acquired).toBe(2);
      await pacer.close();
    } finally {
      conn.disconnect();
      await server.stop();
    }
  });
});
