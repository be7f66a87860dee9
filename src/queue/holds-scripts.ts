// The Lua side of the sending holds (holds.ts). Each script is one atomic step, so a reader never sees
// half a hold (a `since` without its `by`) and a back-off is started or escalated once per period
// however many workers' throttle answers arrive together.

/*
 * hold-pause-1: start a hold, or let an operator take over an automatic one.
 * KEYS[1] hold hash: since (ms), reason, by
 * ARGV[1] since, ARGV[2] reason, ARGV[3] by ('ses' | 'operator' | 'reputation')
 * Returns 1 when this call started the hold, 0 when one was already in force.
 */
export const PAUSE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'since') == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'since', ARGV[1], 'reason', ARGV[2], 'by', ARGV[3])
  return 1
end
if ARGV[3] == 'operator' and redis.call('HGET', KEYS[1], 'by') ~= 'operator' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[2], 'by', ARGV[3])
end
return 0
`;

/*
 * hold-resume-1: lift the hold, or only a hold of one source.
 * KEYS[1] hold hash
 * ARGV[1] the source the hold must have, or '' for any
 * Returns 1 when a hold was lifted.
 */
export const RESUME_LUA = `
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'by') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`;

// The throttle back-off is a hash: `until` (Redis ms) ends the back-off, `backoff` is its length
// before jitter. The key outlives `until` by a memory period, so the next period can double it.
// A plain string key (written by an older version with SET PX) counts as a base-length back-off.
const READ_THROTTLE_LUA = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function readThrottle(key, now, base)
  local kind = redis.call('TYPE', key).ok
  if kind == 'hash' then
    return tonumber(redis.call('HGET', key, 'until') or '0'), tonumber(redis.call('HGET', key, 'backoff') or '0')
  elseif kind == 'string' then
    local pttl = redis.call('PTTL', key)
    if pttl > 0 then return now + pttl, base end
  end
  return 0, 0
end
`;

/*
 * hold-gate-3: what stands between a chunk and its SES call, in one round trip.
 * Once a back-off has ended, while its length is still remembered (no call has succeeded since), one
 * caller at a time probes SES: the first to ask with a token holds the probe for the lease; everyone
 * else waits (a short poll, at most what is left of the lease) until the probe's success clears the
 * back-off, its throttled answer starts the next one, or its holder lets it go.
 * KEYS[1] hold hash, KEYS[2] throttle key
 * ARGV[1] probe token ('' looks without claiming the probe), ARGV[2] probe lease ms, ARGV[3] poll ms,
 * ARGV[4] memory ms (how long the back-off's length is kept after it ends; claiming the probe keeps
 * the key at least that long past the lease, so neither the probe nor the length vanish under it)
 * Returns { since or '', by or '', reason or '', ms to wait, back-off length remembered (0: none),
 *           1 when this caller holds the probe }
 */
export const GATE_LUA = `
${READ_THROTTLE_LUA}
local hold = redis.call('HMGET', KEYS[1], 'since', 'by', 'reason')
local now = nowMs()
local untilMs, backoff = readThrottle(KEYS[2], now, 1)
local waitMs = math.max(0, untilMs - now)
local probing = 0
if waitMs == 0 and backoff > 0 then
  local owner = redis.call('HGET', KEYS[2], 'probe')
  local probeUntil = tonumber(redis.call('HGET', KEYS[2], 'probeUntil') or '0')
  if owner and owner ~= ARGV[1] and probeUntil > now then
    waitMs = math.min(probeUntil - now, tonumber(ARGV[3]))
  elseif ARGV[1] ~= '' and not hold[1] then
    redis.call('HSET', KEYS[2], 'probe', ARGV[1], 'probeUntil', now + tonumber(ARGV[2]))
    local keep = tonumber(ARGV[2]) + tonumber(ARGV[4])
    if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
    probing = 1
  end
end
return { hold[1] or '', hold[2] or '', hold[3] or '', waitMs, backoff, probing }
`;

/*
 * throttle-probe-release-1: the probe's call ended without a throttled answer or a success (another
 * error, the worker stopping): the next caller may probe at once instead of after the lease.
 * KEYS[1] throttle key
 * ARGV[1] the probe's token
 */
export const PROBE_RELEASE_LUA = `
if redis.call('TYPE', KEYS[1]).ok == 'hash' and redis.call('HGET', KEYS[1], 'probe') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'probe', 'probeUntil')
  return 1
end
return 0
`;

/*
 * throttle-start-2: a throttling answer arrived. It starts a back-off only when none is in force
 * (answers to calls made before the back-off began belong to it); the new one doubles the last
 * remembered length, up to the cap.
 * KEYS[1] throttle key
 * ARGV[1] base ms, ARGV[2] cap ms, ARGV[3] jitter factor for this back-off, ARGV[4] memory ms
 * Returns { 1 if this answer started a back-off else 0, back-off length, ms left }
 */
export const THROTTLE_LUA = `
${READ_THROTTLE_LUA}
local base, cap, jitter, memory = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = nowMs()
local untilMs, last = readThrottle(KEYS[1], now, base)
if untilMs > now then return { 0, last, untilMs - now } end
local backoff = base
if last > 0 then backoff = math.min(cap, last * 2) end
local length = math.max(1, math.floor(backoff * jitter + 0.5))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'until', now + length, 'backoff', backoff)
redis.call('PEXPIRE', KEYS[1], length + memory)
return { 1, backoff, length }
`;

/*
 * throttle-clear-1: an SES call succeeded after a back-off ended, so the next throttle starts again
 * at the base length. A back-off still in force (another worker's fresh one) is left alone.
 * KEYS[1] throttle key
 */
export const THROTTLE_CLEAR_LUA = `
${READ_THROTTLE_LUA}
local now = nowMs()
local untilMs = readThrottle(KEYS[1], now, 1)
if untilMs <= now then redis.call('DEL', KEYS[1]) end
return 0
`;
