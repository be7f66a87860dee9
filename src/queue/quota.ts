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
import type { Redis } from 'ioredis';

const WINDOW_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;
const WINDOW_MS = WINDOW_MINUTES * MINUTE_MS;

/*
 * KEYS[1] quota hash
 * ARGV[1] recipients to reserve (may be negative to give back a reservation)
 * ARGV[2] quota (recipients per 24 h); -1 for unlimited
 * ARGV[3] recipients SES already counts in its 24 hours (0 when unknown): the total may not pass
 *         the quota from the larger of the two
 * Returns { admitted (1/0), ms to wait when not admitted (-1: only SES's count stands in the way,
 *           which this ledger cannot see leave), total after the call }
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
while (oldest + 1) * ${MINUTE_MS} < windowStart do
  local count = tonumber(redis.call('HGET', key, tostring(oldest)) or '0')
  if count ~= 0 then
    total = total - count
    redis.call('HDEL', key, tostring(oldest))
  end
  oldest = oldest + 1
end
if n > 0 and quota >= 0 and math.max(total, alreadySent) + n > quota then
  local wait = -1
  if total + n > quota then
    local need = total + n - quota
    local m = oldest
    while need > 0 and m <= minute do
      need = need - tonumber(redis.call('HGET', key, tostring(m)) or '0')
      m = m + 1
    end
    -- Minute m - 1 is the last that must leave: it does 1 ms after its end is 24 h ago.
    wait = m * ${MINUTE_MS} + ${WINDOW_MS} - nowMs + 1
  end
  redis.call('HSET', key, 'total', total, 'oldest', oldest)
  return {0, wait, total}
end
total = total + n
if total < 0 then total = 0 end
redis.call('HINCRBY', key, tostring(minute), n)
redis.call('HSET', key, 'total', total, 'oldest', oldest)
redis.call('EXPIRE', key, ${(WINDOW_MINUTES + 60) * 60})
return {1, 0, total}
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
}

export interface DailyQuota {
  /** `alreadySent`: SES's SentLast24Hours; the reservation must fit above it too. */
  reserve(recipients: number, quota: number, alreadySent?: number): Promise<QuotaDecision>;
  /** Gives a reservation back (the send did not happen). */
  release(recipients: number): Promise<void>;
  sentLast24Hours(): Promise<number>;
}

type QuotaRedis = Redis & {
  sesRelayQuotaReserve?: (
    key: string,
    recipients: number,
    quota: number,
    alreadySent: number,
  ) => Promise<[number, number, number]>;
};

export function createDailyQuota(client: Redis, key: string): DailyQuota {
  const redis = client as QuotaRedis;
  // EVALSHA after the first call: the script text is sent once per connection.
  if (!redis.sesRelayQuotaReserve)
    redis.defineCommand('sesRelayQuotaReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
  const reserveCommand = redis.sesRelayQuotaReserve!.bind(redis);
  const run = async (recipients: number, quota: number, alreadySent = 0): Promise<QuotaDecision> => {
    const limit = Number.isFinite(quota) ? Math.floor(quota) : -1;
    const floor = Number.isFinite(alreadySent) && alreadySent > 0 ? Math.floor(alreadySent) : 0;
    const [admitted, waitMs, total] = await reserveCommand(key, recipients, limit, floor);
    return {
      admitted: admitted === 1,
      waitMs: waitMs < 0 ? Infinity : Math.max(1000, waitMs),
      sentLast24Hours: total,
    };
  };
  return {
    reserve: (recipients, quota, alreadySent) => run(recipients, quota, alreadySent),
    release: async (recipients) => {
      await run(-recipients, -1);
    },
    sentLast24Hours: async () => (await run(0, -1)).sentLast24Hours,
  };
}
