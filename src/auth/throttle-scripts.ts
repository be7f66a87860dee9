// The Lua scripts of the AUTH failure throttle. One key per client (so it runs unchanged on Redis
// Cluster), read and written atomically, on Redis's clock (so gateway hosts may disagree on the time).
import { defineScript } from '../shared/lua.js';

/*
 * The client's hash: field f = failures inside the window, "ms:tag" pairs oldest first, where tag is a
 * short digest of the username tried; field p = attempts in progress (reserved, password not yet
 * checked), "ms:id" pairs; field b = blocked until (ms, Redis clock). While blocked the key holds only
 * b and expires with the block, so a block needs no clean-up.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- The "ms:tag" entries of a field newer than since, leaving out those tagged skip.
local function entries(field, since, skip)
  local kept = {}
  for at, tag in string.gmatch(redis.call('HGET', KEYS[1], field) or '', '(%d+):(%w+)') do
    if tonumber(at) > since and tag ~= skip then kept[#kept + 1] = at .. ':' .. tag end
  end
  return kept
end
local function store(field, list)
  if #list == 0 then redis.call('HDEL', KEYS[1], field)
  else redis.call('HSET', KEYS[1], field, table.concat(list, ' ')) end
end
-- Failures live for the window; an attempt in progress for the hold, when that is longer.
local function expire(window, hold, pending)
  if pending > 0 and hold > window then redis.call('PEXPIRE', KEYS[1], hold)
  else redis.call('PEXPIRE', KEYS[1], window) end
end
`;

export const CHECK = defineScript(`
--[[ auth-check-1: is the client blocked?
KEYS[1]  the client's hash
Returns  ms until the block ends, 0 when not blocked ]]
${PRELUDE}
local blockedUntil = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blockedUntil > now then return blockedUntil - now end
return 0
`);

export const RESERVE = defineScript(`
--[[ auth-reserve-1: take one attempt before the password is checked. Failures and attempts in
progress count together against the maximum, so parallel attempts cannot pass it.
KEYS[1]  the client's hash
ARGV[1]  max failures per window   ARGV[2] window ms   ARGV[3] hold ms   ARGV[4] attempt id
Returns  { 0 reserved | 1 blocked | 2 busy (the maximum is in progress), ms until the block ends } ]]
${PRELUDE}
local max, window, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local blockedUntil = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blockedUntil > now then return { 1, blockedUntil - now } end
local failures = entries('f', now - window, '')
local pending = entries('p', now - hold, '')
if #failures + #pending >= max then return { 2, 0 } end
pending[#pending + 1] = string.format('%d:%s', now, ARGV[4])
store('f', failures)
store('p', pending)
expire(window, hold, #pending)
return { 0, 0 }
`);

export const RECORD_FAILURE = defineScript(`
--[[ auth-failure-1: count one failed AUTH (settling its attempt); block the client when the window
holds the maximum.
KEYS[1]  the client's hash
ARGV[1]  max failures per window   ARGV[2] window ms   ARGV[3] cool-down ms   ARGV[4] username tag
ARGV[5]  attempt id ('' for none)   ARGV[6] hold ms
Returns  { blocked 0|1, failures in the window, ms until the block ends } ]]
${PRELUDE}
local max, window, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local hold = tonumber(ARGV[6])
local blockedUntil = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blockedUntil > now then return { 1, max, blockedUntil - now } end
local kept = entries('f', now - window, '')
kept[#kept + 1] = string.format('%d:%s', now, ARGV[4])
if #kept >= max then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'b', string.format('%d', now + cooldown))
  redis.call('PEXPIRE', KEYS[1], cooldown)
  return { 1, #kept, cooldown }
end
local pending = entries('p', now - hold, ARGV[5])
store('f', kept)
store('p', pending)
redis.call('HDEL', KEYS[1], 'b')
expire(window, hold, #pending)
return { 0, #kept, 0 }
`);

export const RECORD_SUCCESS = defineScript(`
--[[ auth-success-1: settle an attempt without a failure, and forget the failures of the username
that just logged in; a block stays.
KEYS[1]  the client's hash
ARGV[1]  username tag ('' forgets none)   ARGV[2] attempt id ('' for none)
Returns  failures left in the window ]]
${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local kept = entries('f', 0, ARGV[1])
store('f', kept)
store('p', entries('p', 0, ARGV[2]))
return #kept
`);
