// Giving a 24-hour quota reservation back (the chunk was not sent): the recipients go back to the
// minute they were counted in, so nothing stays counted once that minute leaves the window, and the
// stored total always equals the sum of the minute fields. Time passing is played by moving every
// minute of the ledger back (ageLedger), so no test waits for a real minute boundary.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunkReservation } from '../../src/queue/chunk-reservation.js';
import type { SendJobData } from '../../src/queue/job.js';
import { createDailyQuota, type DailyQuota } from '../../src/queue/quota.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const DAY_MINUTES = 24 * 60;

describe('24-hour quota ledger: giving a reservation back', () => {
  const prefix = uniquePrefix('quota-release');
  let redis: Redis;
  let keyNo = 0;
  const nextKey = () => `${prefix}:quota-${keyNo++}`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const redisMinute = async () => Math.floor(Number((await redis.time())[0]) / 60);

  /** The ledger as it would be `minutes` later: every minute field (and `oldest`) moved back. */
  async function ageLedger(key: string, minutes: number): Promise<void> {
    const fields = await redis.hgetall(key);
    const aged: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
      if (field === 'total') aged.push(field, value);
      else if (field === 'oldest') aged.push(field, String(Number(value) - minutes));
      else aged.push(String(Number(field) - minutes), value);
    }
    await redis
      .multi()
      .del(key)
      .hset(key, ...aged)
      .exec();
  }

  /** The minute fields, and whether the stored total is their sum. */
  async function ledger(key: string): Promise<{ minutes: Record<string, number>; totalIsSum: boolean }> {
    const { total, oldest: _oldest, ...fields } = await redis.hgetall(key);
    const minutes = Object.fromEntries(Object.entries(fields).map(([m, v]) => [m, Number(v)]));
    const sum = Object.values(minutes).reduce((a, b) => a + b, 0);
    return { minutes, totalIsSum: Number(total ?? '0') === sum };
  }

  it('gives the recipients back to the minute of the reservation, not the current one', async () => {
    const key = nextKey();
    const quota = createDailyQuota(redis, key);
    const reserved = await quota.reserve(50, 200);
    expect(reserved).toMatchObject({ admitted: true, sentLast24Hours: 50 });
    expect(await ledger(key)).toEqual({ minutes: { [reserved.minute]: 50 }, totalIsSum: true });

    // The chunk waited two minutes (pacer, throttle probe), then a hold put it back.
    await ageLedger(key, 2);
    await quota.release(50, reserved.minute - 2);
    expect(await ledger(key)).toEqual({ minutes: {}, totalIsSum: true });
    expect(await quota.sentLast24Hours()).toBe(0);
  });

  it('leaves nothing counted once the minutes of a reservation and of its give-back left the window', async () => {
    const key = nextKey();
    const quota = createDailyQuota(redis, key);
    const reserved = await quota.reserve(50, 200);
    await ageLedger(key, 2);
    await quota.release(50, reserved.minute - 2);

    // 24 hours on, the reservation's minute has left the window; nothing else was sent.
    await ageLedger(key, DAY_MINUTES - 1);
    expect(await quota.sentLast24Hours()).toBe(0);
    expect((await ledger(key)).totalIsSum).toBe(true);
    // Two minutes later, the minute of the give-back has left too.
    await ageLedger(key, 2);
    expect(await quota.sentLast24Hours()).toBe(0);
    expect((await ledger(key)).totalIsSum).toBe(true);
    // A 200-recipient quota with nothing sent admits 200.
    expect(await quota.reserve(200, 200)).toMatchObject({ admitted: true, sentLast24Hours: 200 });
  });

  it('gives nothing back for a reservation whose minute already left the window', async () => {
    const key = nextKey();
    const quota = createDailyQuota(redis, key);
    const reserved = await quota.reserve(50, 200);
    await ageLedger(key, DAY_MINUTES + 2);
    const sent = await quota.reserve(5, 200);
    expect(sent).toMatchObject({ admitted: true, sentLast24Hours: 5 });

    // The 50 left with their minute: the 5 sent since stay counted, and nothing is owed later.
    await quota.release(50, reserved.minute - DAY_MINUTES - 2);
    expect(await ledger(key)).toEqual({ minutes: { [sent.minute]: 5 }, totalIsSum: true });
    expect(await quota.sentLast24Hours()).toBe(5);
  });

  it('recounts a total that drifted above its minutes (an older version’s give-back) when a minute leaves', async () => {
    const key = nextKey();
    const now = await redisMinute();
    // An older worker gave 50 back in a later minute and its script clamped the total at 0: the
    // stored total holds 50 more than the minutes that remain.
    await redis.hset(
      key,
      String(now - DAY_MINUTES - 2),
      '10',
      String(now - 5),
      '20',
      'total',
      '80',
      'oldest',
      String(now - DAY_MINUTES - 2),
    );
    const quota = createDailyQuota(redis, key);
    expect(await quota.sentLast24Hours()).toBe(20);
    expect(await ledger(key)).toEqual({ minutes: { [now - 5]: 20 }, totalIsSum: true });
  });

  it("gives a chunk's reservations back to their minutes in the quota and in the user's daily cap", async () => {
    const releases: Array<[string, number, number]> = [];
    const minutes: Record<string, number> = {};
    const spy = (name: string, inner: DailyQuota): DailyQuota => ({
      reserve: async (...args) => {
        const decision = await inner.reserve(...args);
        minutes[name] = decision.minute;
        return decision;
      },
      release: async (recipients, minute) => {
        releases.push([name, recipients, minute]);
        await inner.release(recipients, minute);
      },
      sentLast24Hours: () => inner.sentLast24Hours(),
      refusedBySes: (forMs) => inner.refusedBySes(forMs),
    });
    const global = createDailyQuota(redis, nextKey());
    const own = createDailyQuota(redis, nextKey());
    const reserve = createChunkReservation({
      quota: spy('quota', global),
      quotaLimit: () => 1000,
      sesSentLast24Hours: () => 0,
      userQuota: () => spy('cap', own),
    });
    const reservation = await reserve({ user: 'alice', userDailyCap: 100 } as SendJobData, 7);
    expect(reservation.admitted).toBe(true);
    expect(minutes).toEqual({ quota: expect.any(Number), cap: expect.any(Number) });
    if (reservation.admitted) await reservation.giveBack();
    expect(releases).toEqual(
      expect.arrayContaining([
        ['quota', 7, minutes.quota],
        ['cap', 7, minutes.cap],
      ]),
    );
    expect(releases).toHaveLength(2);
    expect(await global.sentLast24Hours()).toBe(0);
    expect(await own.sentLast24Hours()).toBe(0);

    // Refused by the quota: the daily cap's reservation goes back to its minute.
    releases.length = 0;
    const refused = createChunkReservation({
      quota: spy('quota', createDailyQuota(redis, nextKey())),
      quotaLimit: () => 5,
      userQuota: () => spy('cap', own),
    });
    expect(await refused({ user: 'alice', userDailyCap: 100 } as SendJobData, 7)).toMatchObject({
      admitted: false,
    });
    expect(releases).toEqual([['cap', 7, minutes.cap]]);
    expect(await own.sentLast24Hours()).toBe(0);
  });
});
