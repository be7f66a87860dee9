// The rolling 24-hour send quota, counted in recipients (SES's unit). Every worker reserves a
// chunk's recipients here before sending it; when the reservation would pass Max24HourSend the
// message waits (delayed, not failed) until old sends leave the window.
//
// One Redis hash per deployment (one key, so it works on Redis Cluster): a field per minute with
// the recipients sent in it, plus `total` and `oldest`. The script drops a minute once its end is
// more than 24 h ago (before that, some of its sends may still be inside the window), so the hash
// holds at most 1,442 minute fields.
//
// SES counts every send on the account, this ledger only this deployment's: a reservation must also
// fit on top of SentLast24Hours as GetAccount last reported it (`alreadySent`).
//
// When SES itself answers "Daily message quota exceeded" (other senders on the account, a quota
// lowered by AWS), a second key records it for a while (`refusedBySes`): every reservation on this
// ledger then waits it out, so a backlog makes one refused call per worker, not one per message.
import type { Redis } from 'ioredis';

const WINDOW_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;
const WINDOW_MS = WINDOW_MINUTES * MINUTE_MS;

/*
 * KEYS[1] quota hash
 * KEYS[2] SES's refusal: while it exists (a PX key), no reservation is admitted (same hash slot:
 *         both keys sit under REDIS_PREFIX, whose hash tag a Cluster deployment must have)
 * ARGV[1] recipients to reserve (negative to give back a reservation)
 * ARGV[2] quota (recipients per 24 h); -1 for unlimited
 * ARGV[3] recipients SES already counts in its 24 hours (0 when unknown): the total may not pass
 *         the quota from the larger of the two
 * ARGV[4] with a negative ARGV[1]: the minute the reservation was counted in (as this script
 *         returned it). The recipients go back to that minute, not to the current one: given back
 *         to a later minute they would leave the window after the reservation did, the total
 *         falling below what was sent in between and rising again, for nothing, 24 h on. A minute
 *         that has already left the window took its recipients with it: nothing is given back.
 * Returns { admitted (1/0), ms to wait when not admitted (-1: only SES's count stands in the way,
 *           which this ledger cannot see leave), total after the call, the current minute (the one
 *           an admitted reservation was counted in), 1 when SES's refusal (KEYS[2]) was the reason }
 *
 * `total` is stored as the exact sum of the minute fields, never clamped (only the value returned
 * and compared is at least 0), so the ledger cannot drift from its fields.
 *
 * Rolling upgrade (workers of both versions on one hash; the format is the same): a worker gives
 * back only what it reserved itself (the reservation lives in its memory), so a new worker's
 * give-back always names its minute. An old worker's give-back still goes to the current minute
 * and its script still clamps the stored total at 0, which can leave `total` above the sum of the
 * fields. This script therefore recounts `total` from the fields whenever a minute leaves the
 * window (at most once a minute, 1,442 fields at most), which also repairs ledgers that drifted
 * before the upgrade; an old worker's misplaced negative field can hold the total that much low
 * until it leaves the window (as before the upgrade), after which the ledger is exact.
 */
const RESERVE_SCRIPT = `
local key = KEYS[1]
local n = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
local alreadySent = tonumber(ARGV[3] or '0')
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local minute = math.floor(nowMs / ${MINUTE_MS})
local windowStart = nowMs - ${WINDOW_MS}
local total = tonumber(redis.call('HGET', key, 'total') or '0')
local oldest = tonumber(redis.call('HGET', key, 'oldest') or tostring(minute))
if minute - oldest > 2 * ${WINDOW_MINUTES} then
  redis.call('DEL', key)
  total = 0
  oldest = minute
end
-- A minute leaves once its end, (oldest + 1) minutes, is more than 24 h ago.
local pruned = false
while (oldest + 1) * ${MINUTE_MS} < windowStart do
  if redis.call('HDEL', key, tostring(oldest)) == 1 then pruned = true end
  oldest = oldest + 1
end
if pruned then
  total = 0
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local f = fields[i]
    if f ~= 'total' and f ~= 'oldest' then total = total + (tonumber(fields[i + 1]) or 0) end
  end
end
local counted = math.max(total, 0)
if n > 0 then
  local refused = redis.call('PTTL', KEYS[2])
  if refused > 0 then
    redis.call('HSET', key, 'total', total, 'oldest', oldest)
    return {0, refused, counted, minute, 1}
  end
end
if n > 0 and quota >= 0 and math.max(counted, alreadySent) + n > quota then
  local wait = -1
  if counted + n > quota then
    local need = counted + n - quota
    local m = oldest
    while need > 0 and m <= minute do
      need = need - tonumber(redis.call('HGET', key, tostring(m)) or '0')
      m = m + 1
    end
    -- Minute m - 1 is the last that must leave: it does 1 ms after its end is 24 h ago.
    wait = m * ${MINUTE_MS} + ${WINDOW_MS} - nowMs + 1
  end
  redis.call('HSET', key, 'total', total, 'oldest', oldest)
  return {0, wait, counted, minute, 0}
end
local at = minute
if n < 0 and ARGV[4] and ARGV[4] ~= '' then at = tonumber(ARGV[4]) end
if n ~= 0 and at >= oldest and at <= minute then
  total = total + n
  if redis.call('HINCRBY', key, tostring(at), n) == 0 then redis.call('HDEL', key, tostring(at)) end
end
redis.call('HSET', key, 'total', total, 'oldest', oldest)
redis.call('EXPIRE', key, ${(WINDOW_MINUTES + 60) * 60})
return {1, 0, math.max(total, 0), minute, 0}
`;

export interface QuotaDecision {
  admitted: boolean;
  /**
   * When not admitted: how long until enough recipients leave the 24-hour window; Infinity when
   * only SES's count (alreadySent) stands in the way, whose sends this ledger cannot see leave.
   */
  waitMs: number;
  /** Recipients counted in the last 24 hours after this call. */
  sentLast24Hours: number;
  /**
   * The ledger minute (Redis time, minutes since the epoch) an admitted reservation was counted
   * in: release() needs it to give the reservation back to that minute.
   */
  minute: number;
  /** Not admitted because SES refused the daily quota a short while ago (see refusedBySes). */
  refusedBySes: boolean;
}

export interface DailyQuota {
  /** `alreadySent`: SES's SentLast24Hours; the reservation must fit above it too. */
  reserve(recipients: number, quota: number, alreadySent?: number): Promise<QuotaDecision>;
  /**
   * Gives a reservation back (the send did not happen): `minute` is its decision's `minute`. Does
   * nothing once that minute has left the 24-hour window (the recipients left with it).
   */
  release(recipients: number, minute: number): Promise<void>;
  sentLast24Hours(): Promise<number>;
  /** SES answered "Daily message quota exceeded": no reservation is admitted for `forMs`. */
  refusedBySes(forMs: number): Promise<void>;
}

type QuotaRedis = Redis & {
  sesRelayQuotaReserve?: (
    key: string,
    refusedKey: string,
    recipients: number,
    quota: number,
    alreadySent: number,
    minute?: number,
  ) => Promise<[number, number, number, number, number]>;
};

/** The key that records SES's refusal of the daily quota for the ledger at `key`. */
export function refusedKeyOf(key: string): string {
  return `${key}:ses-refused`;
}

export function createDailyQuota(client: Redis, key: string): DailyQuota {
  const redis = client as QuotaRedis;
  const refusedKey = refusedKeyOf(key);
  // EVALSHA after the first call: the script text is sent once per connection.
  if (!redis.sesRelayQuotaReserve)
    redis.defineCommand('sesRelayQuotaReserve', { numberOfKeys: 2, lua: RESERVE_SCRIPT });
  const reserveCommand = redis.sesRelayQuotaReserve!.bind(redis);
  const run = async (
    recipients: number,
    quota: number,
    alreadySent = 0,
    at?: number,
  ): Promise<QuotaDecision> => {
    const limit = Number.isFinite(quota) ? Math.floor(quota) : -1;
    const floor = Number.isFinite(alreadySent) && alreadySent > 0 ? Math.floor(alreadySent) : 0;
    const [admitted, waitMs, total, minute, refused] = await (at === undefined
      ? reserveCommand(key, refusedKey, recipients, limit, floor)
      : reserveCommand(key, refusedKey, recipients, limit, floor, at));
    return {
      admitted: admitted === 1,
      waitMs: waitMs < 0 ? Infinity : Math.max(1000, waitMs),
      sentLast24Hours: total,
      minute,
      refusedBySes: refused === 1,
    };
  };
  return {
    reserve: (recipients, quota, alreadySent) => run(recipients, quota, alreadySent),
    release: async (recipients, minute) => {
      if (recipients > 0) await run(-recipients, -1, 0, Math.floor(minute));
    },
    sentLast24Hours: async () => (await run(0, -1)).sentLast24Hours,
    refusedBySes: async (forMs) => {
      await redis.set(refusedKey, String(Date.now()), 'PX', Math.max(1, Math.round(forMs)));
    },
  };
}
