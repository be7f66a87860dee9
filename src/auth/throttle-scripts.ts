// The Lua scripts of the AUTH failure throttle. One key per client (so it runs unchanged on Redis
// Cluster), read and written atomically, on Redis's clock (so gateway hosts may disagree on the time).
import { defineScript } from '../shared/lua.js';

/*
 * The client's hash: field f = failures inside the window, "ms:tag" pairs oldest first, where tag is a
 * short digest of the username tried; field b = blocked until (ms, Redis clock). While blocked the key
 * holds only b and expires with the block, so a block needs no clean-up.
 */
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

export const CHECK = defineScript(`
--[[ auth-check-1: is the client blocked?
KEYS[1]  the client's hash
Returns  ms until the block ends, 0 when not blocked ]]
${NOW_MS}
local blockedUntil = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blockedUntil > now then return blockedUntil - now end
return 0
`);

export const RECORD_FAILURE = defineScript(`
--[[ auth-failure-1: count one failed AUTH; block the client when the window holds the maximum.
KEYS[1]  the client's hash
ARGV[1]  max failures per window   ARGV[2] window ms   ARGV[3] cool-down ms   ARGV[4] username tag
Returns  { blocked 0|1, failures in the window, ms until the block ends } ]]
${NOW_MS}
local max, window, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local blockedUntil = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
if blockedUntil > now then return { 1, max, blockedUntil - now } end
local kept = {}
for at, tag in string.gmatch(redis.call('HGET', KEYS[1], 'f') or '', '(%d+):(%w+)') do
  if tonumber(at) > now - window then kept[#kept + 1] = at .. ':' .. tag end
end
kept[#kept + 1] = string.format('%d:%s', now, ARGV[4])
if #kept >= max then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'b', string.format('%d', now + cooldown))
  redis.call('PEXPIRE', KEYS[1], cooldown)
  return { 1, #kept, cooldown }
end
redis.call('HSET', KEYS[1], 'f', table.concat(kept, ' '))
redis.call('HDEL', KEYS[1], 'b')
redis.call('PEXPIRE', KEYS[1], window)
return { 0, #kept, 0 }
`);

export const RECORD_SUCCESS = defineScript(`
--[[ auth-success-1: forget the failures of the username that just logged in; a block stays.
KEYS[1]  the client's hash
ARGV[1]  username tag
Returns  failures left in the window ]]
local f = redis.call('HGET', KEYS[1], 'f')
if not f then return 0 end
local kept = {}
for at, tag in string.gmatch(f, '(%d+):(%w+)') do
  if tag ~= ARGV[1] then kept[#kept + 1] = at .. ':' .. tag end
end
if #kept == 0 then
  redis.call('HDEL', KEYS[1], 'f')
else
  redis.call('HSET', KEYS[1], 'f', table.concat(kept, ' '))
end
return #kept
`);
