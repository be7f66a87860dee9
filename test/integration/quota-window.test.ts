// The rolling 24-hour ledger on real Redis: when a minute leaves the window, SES's own count of the
// account's sends, and how long mail held for a quota or an SMTP user's daily cap waits.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunkReservation, QUOTA_RECHECK_MS } from '../../src/queue/chunk-reservation.js';
import type { SendJobData } from '../../src/queue/job.js';
import { createDailyQuota } from '../../src/queue/quota.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe('24-hour quota ledger', () => {
  const prefix = uniquePrefix('quota-window');
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

  it('keeps a minute counted until its end is more than 24 hours ago, and waits for exactly that', async () => {
    // Early enough in the minute that the script runs in the same one (no sleeping: poll Redis time).
    // The few commands below take milliseconds; two seconds to spare keeps a slow machine safe.
    const now = await waitFor(
      async () => {
        const ms = await redisNowMs(redis);
        return ms % MINUTE_MS < 58_000 ? ms : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the first 58 s of a minute' },
    );
    const minute = Math.floor(now / MINUTE_MS);
    // The minute that began exactly 24 h before this one: it started more than 24 h ago, but it ends
    // less than 24 h ago, so sends from its last seconds are still inside the window.
    const straddling = minute - 24 * 60;
    const key = nextKey();
    await redis.hset(key, String(straddling), '10', 'total', '10', 'oldest', String(straddling));
    const quota = createDailyQuota(redis, key);

    const decision = await quota.reserve(1, 10);
    expect(decision.admitted).toBe(false);
    expect(decision.sentLast24Hours).toBe(10);
    // It frees when its end, (straddling + 1) minutes, is 24 h old: at the start of the next minute.
    const freesAt = (straddling + 1) * MINUTE_MS + DAY_MS;
    expect(decision.waitMs).toBeGreaterThan(freesAt - now - 1000);
    expect(decision.waitMs).toBeLessThanOrEqual(Math.max(1000, freesAt - now + 1000));
    expect(decision.waitMs).toBeLessThanOrEqual(MINUTE_MS);

    // A minute that ended more than 24 h ago is gone.
    const older = nextKey();
    await redis.hset(older, String(straddling - 1), '10', 'total', '10', 'oldest', String(straddling - 1));
    const fresh = await createDailyQuota(redis, older).reserve(1, 10);
    expect(fresh).toMatchObject({ admitted: true, sentLast24Hours: 1 });
  });

  it("refuses a reservation that fits the own ledger but not SES's SentLast24Hours", async () => {
    const quota = createDailyQuota(redis, nextKey());
    expect(await quota.reserve(3, 100, 0)).toMatchObject({ admitted: true, sentLast24Hours: 3 });
    // SES counted 95 (other senders on the account): 95 + 10 > 100, although the ledger holds 3.
    const refused = await quota.reserve(10, 100, 95);
    expect(refused).toMatchObject({ admitted: false, sentLast24Hours: 3 });
    // Nothing in this ledger can say when SES's count falls.
    expect(refused.waitMs).toBe(Infinity);
    expect(await quota.reserve(5, 100, 95)).toMatchObject({ admitted: true, sentLast24Hours: 8 });
    // The ledger decides when it is the larger of the two.
    expect(await quota.reserve(93, 100, 2)).toMatchObject({ admitted: false });
  });

  it('looks again within QUOTA_RECHECK_MS at mail held for the quota or for a user’s daily cap', async () => {
    const userQuota = createDailyQuota(redis, nextKey());
    const reserve = createChunkReservation({
      quota: createDailyQuota(redis, nextKey()),
      quotaLimit: () => 1000,
      sesSentLast24Hours: () => 0,
      userQuota: () => userQuota,
    });
    const data = { user: 'capped', userDailyCap: 2 } as SendJobData;
    const first = await reserve(data, 2);
    expect(first.admitted).toBe(true);
    const held = await reserve(data, 1);
    expect(held).toMatchObject({ admitted: false, why: 'daily cap of SMTP user capped reached' });
    // The cap frees in about 24 h; a raised dailyCap (users file reload) should carry the mail sooner.
    expect(!held.admitted && held.waitMs).toBeLessThanOrEqual(QUOTA_RECHECK_MS);

    const bySes = createChunkReservation({
      quota: createDailyQuota(redis, nextKey()),
      quotaLimit: () => 100,
      sesSentLast24Hours: () => 100,
    });
    const blocked = await bySes({} as SendJobData, 1);
    expect(blocked).toMatchObject({
      admitted: false,
      waitMs: QUOTA_RECHECK_MS,
      why: '24-hour quota reached',
      context: { sesSentLast24Hours: 100, quotaFreesAt: 'unknown' },
    });
  });
});
