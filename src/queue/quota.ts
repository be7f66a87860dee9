// The rolling 24-hour send quota, counted in recipients (SES's unit). Every worker reserves a
// chunk's recipients here before sending it; when the reservation would pass Max24HourSend the
// message waits (delayed, not failed) until old sends leave the window.
//
// One Redis hash per deployment (one key, so it works on Redis Cluster): a field per minute with
// the recipients sent in it, plus `total` and `oldest`. The script drops minutes older than 24 h
// as time passes, so the hash holds at most 1,441 minute fields.
import type { Redis } from 'ioredis';

const WINDOW_MINUTES = 24 * 60;

/*
 * KEYS[1] quota hash
 * ARGV[1] recipients to reserve (may be negative to give back a reservation)
 * ARGV[2] quota (recipients per 24 h); -1 for unlimited
 * Returns { admitted (1/0), seconds to wait when not admitted, total after the call }
 */
const RESERVE_SCRIPT = `
local key = KEYS[1]
local n = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
local now = redis.call('TIME')
local seconds = tonumber(now[1])
local minute = math.floor(seconds / 60)
local cutoff = minute - ${WINDOW_MINUTES}
local total = tonumber(redis.call('HGET', key, 'total') or '0')
local oldest = tonumber(redis.call('HGET', key, 'oldest') or tostring(minute))
if cutoff - oldest > ${WINDOW_MINUTES} then
  redis.call('DEL', key)
  total = 0
  oldest = minute
end
while oldest <= cutoff do
  local count = tonumber(redis.call('HGET', key, tostring(oldest)) or '0')
  if count ~= 0 then
    total = total - count
    redis.call('HDEL', key, tostring(oldest))
  end
  oldest = oldest + 1
end
if n > 0 and quota >= 0 and total + n > quota then
  local need = total + n - quota
  local m = oldest
  while need > 0 and m <= minute do
    need = need - tonumber(redis.call('HGET', key, tostring(m)) or '0')
    m = m + 1
  end
  redis.call('HSET', key, 'total', total, 'oldest', oldest)
  return {0, (m - 1 + ${WINDOW_MINUTES}) * 60 - seconds, total}
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
  /** When not admitted: how long until enough recipients leave the 24-hour window. */
  waitMs: number;
  /** Recipients counted in the last 24 hours after this call. */
  sentLast24Hours: number;
}

export interface DailyQuota {
  reserve(recipients: number, quota: number): Promise<QuotaDecision>;
  /** Gives a reservation back (the send did not happen). */
  release(recipients: number): Promise<void>;
  sentLast24Hours(): Promise<number>;
}

type QuotaRedis = Redis & {
  sesRelayQuotaReserve?: (
    key: string,
    recipients: number,
    quota: number,
  ) => Promise<[number, number, number]>;
};

export function createDailyQuota(client: Redis, key: string): DailyQuota {
  const redis = client as QuotaRedis;
  // EVALSHA after the first call: the script text is sent once per connection.
  if (!redis.sesRelayQuotaReserve)
    redis.defineCommand('sesRelayQuotaReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
  const reserveCommand = redis.sesRelayQuotaReserve!.bind(redis);
  const run = async (recipients: number, quota: number): Promise<QuotaDecision> => {
    const limit = Number.isFinite(quota) ? Math.floor(quota) : -1;
    const [admitted, waitSeconds, total] = await reserveCommand(key, recipients, limit);
    return { admitted: admitted === 1, waitMs: Math.max(1000, waitSeconds * 1000), sentLast24Hours: total };
  };
  return {
    reserve: (recipients, quota) => run(recipients, quota),
    release: async (recipients) => {
      await run(-recipients, -1);
    },
    sentLast24Hours: async () => (await run(0, -1)).sentLast24Hours,
  };
}
