// The Lua scripts of the suppression store: the writes that must read and update several keys at
// once (summary, detail, expiry index, counter, soft-bounce window) run atomically in Redis. All keys
// a script touches are passed in KEYS and share one hash tag (see keys.ts). The stored formats are
// described in codec.ts. Kept as strings, not .lua files, so the build needs no copy step.
import { defineScript } from '../shared/lua.js';

// upsert(...) -> added (1 when there was no live entry), created (1 when the field was new), summary,
//   detail ('' when none). The caller adds `created` to the entry counter, once per script.
// A new field costs one HSETNX: the common case of imports and first bounces. An expired entry is
// replaced as if new. A live entry keeps the earlier firstSeen and counts one more event; the reason,
// details and expiry become the event's unless the stored lastSeen is later (an out-of-order or
// replayed event must not overwrite newer facts) or the event is weaker evidence: a manual or
// imported entry never replaces a bounce or complaint, nor a bounce a complaint. Nor does a bounce or
// complaint entry ever get a shorter life: a dead mailbox must not receive mail again because an
// operator added it with an expiry. An event whose details, SES feedback id included, equal the
// stored ones is the stored event delivered again and changes nothing.
const UPSERT = `
local function liveSummary(key, field, now)
  local s = redis.call('HGET', key, field)
  if not s then return false, false end
  local e = string.match(s, ',(%w+)$')
  return s, (e == nil or tonumber(e, 36) > now)
end

-- Strength of the evidence behind an entry: complaint > bounce > manual, imported.
local RANK = { c = 3, b = 2, m = 1, i = 1 }

local function withExpiry(head, exp36)
  if exp36 == '' then return head end
  return head .. ',' .. exp36
end

local function upsert(sKey, dKey, expKey, now, field, at, at36, reason, exp, exp36, json)
  local fresh = withExpiry(reason .. at36, exp36)
  if redis.call('HSETNX', sKey, field, fresh) == 1 then
    local detail = ''
    if json ~= '' then
      detail = '1,' .. at36 .. ',' .. json
      redis.call('HSET', dKey, field, detail)
    end
    if exp ~= '' then redis.call('ZADD', expKey, exp, field) end
    return 1, 1, fresh, detail
  end
  local old, live = liveSummary(sKey, field, now)
  local first36, last36, count, newer = at36, at36, 1, true
  if live then
    first36 = string.match(old, '^%a(%w+)')
    local oldLast36, oldJson = first36, ''
    count = 2
    local d = redis.call('HGET', dKey, field)
    if d then
      local c
      c, oldLast36, oldJson = string.match(d, '^(%d+),(%w+),(.*)$')
      count = tonumber(c) + 1
      -- The same SES feedback event again (SNS redelivered it after a half-applied first delivery):
      -- it was counted then, so nothing changes.
      if json ~= '' and json == oldJson and string.sub(old, 1, 1) == reason
        and string.find(json, '"fid":', 1, true) then
        return 0, 0, old, d
      end
    end
    if tonumber(first36, 36) > at then first36 = at36 end
    local oldReason = string.sub(old, 1, 1)
    local oldExp36 = string.match(old, ',(%w+)$') or ''
    if tonumber(oldLast36, 36) > at or (RANK[reason] or 0) < (RANK[oldReason] or 0) then
      newer, last36, json, reason, exp36 = false, oldLast36, oldJson, oldReason, oldExp36
    elseif oldReason == 'b' or oldReason == 'c' then
      if oldExp36 == '' or (exp36 ~= '' and tonumber(exp36, 36) < tonumber(oldExp36, 36)) then
        exp36 = oldExp36
      end
    end
  end
  local summary = withExpiry(reason .. first36, exp36)
  redis.call('HSET', sKey, field, summary)
  local detail = ''
  if count > 1 or json ~= '' then
    detail = count .. ',' .. last36 .. ',' .. json
    redis.call('HSET', dKey, field, detail)
  else
    redis.call('HDEL', dKey, field)
  end
  if newer and exp36 ~= '' then
    redis.call('ZADD', expKey, tonumber(exp36, 36), field)
  elseif newer then
    redis.call('ZREM', expKey, field)
  end
  return (live and 0 or 1), 0, summary, detail
end
`;

// KEYS[1] expiry index, KEYS[2] entry counter; per record i: KEYS[1+2i] summary bucket, KEYS[2+2i] detail bucket
// ARGV[1] now (epoch ms), ARGV[2] '1' to return the stored strings;
// per record 7 ARGV: field, at (epoch ms), at in base 36, reason code, expiresAt ('' for none),
//   expiresAt in base 36, detail JSON ('' for none)
// Returns per record: added, or added, summary, detail when ARGV[2] is '1'.
export const SUPPRESS = defineScript(`${UPSERT}
local now, full, out, created = tonumber(ARGV[1]), ARGV[2] == '1', {}, 0
for i = 1, (#KEYS - 2) / 2 do
  local a = 2 + (i - 1) * 7
  local added, new, summary, detail = upsert(KEYS[1 + 2 * i], KEYS[2 + 2 * i], KEYS[1], now,
    ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
  created = created + new
  out[#out + 1] = added
  if full then
    out[#out + 1] = summary
    out[#out + 1] = detail
  end
end
if created > 0 then redis.call('INCRBY', KEYS[2], created) end
return out
`);

// KEYS[1] soft-bounce window, KEYS[2] summary bucket, KEYS[3] detail bucket, KEYS[4] expiry index, KEYS[5] entry counter
// ARGV[1] now, ARGV[2] at, ARGV[3] window ms, ARGV[4] limit, ARGV[5] unique event id, ARGV[6] field,
//   ARGV[7] at in base 36, ARGV[8] expiresAt ('' for none), ARGV[9] expiresAt in base 36, ARGV[10] detail JSON
// Returns {soft bounces in the window, 1 if the address is now suppressed else 0}.
// The window is (at - window, at]. An address that is already suppressed is not counted further, and
// the window is deleted once it has produced a suppression.
export const SOFT_BOUNCE = defineScript(`${UPSERT}
local now, at, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local _, suppressed = liveSummary(KEYS[2], ARGV[6], now)
if suppressed then return {redis.call('ZCARD', KEYS[1]), 1} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - window)
redis.call('ZADD', KEYS[1], at, ARGV[5])
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], window)
  return {count, 0}
end
local _, created = upsert(KEYS[2], KEYS[3], KEYS[4], now, ARGV[6], at, ARGV[7], 'b', ARGV[8], ARGV[9], ARGV[10])
redis.call('INCRBY', KEYS[5], created)
redis.call('DEL', KEYS[1])
return {count, 1}
`);

// KEYS[1] summary bucket, KEYS[2] detail bucket, KEYS[3] expiry index, KEYS[4] entry counter, KEYS[5] soft-bounce window
// ARGV[1] field, ARGV[2] now
// Returns 1 when a live entry was removed, 0 when there was none or it had already expired.
// Also forgets the soft bounces, so a removed address starts afresh.
export const REMOVE = defineScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[5])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DECR', KEYS[4])
local e = string.match(old, ',(%w+)$')
if e and tonumber(e, 36) <= tonumber(ARGV[2]) then return 0 end
return 1
`);

// KEYS[1] expiry index, KEYS[2] entry counter; per candidate i: KEYS[1+2i] summary bucket, KEYS[2+2i] detail bucket
// ARGV[1] now; per candidate i: ARGV[1+i] field
// Returns how many entries were deleted. A candidate re-suppressed since it was read is left alone.
export const SWEEP = defineScript(`
local now, removed = tonumber(ARGV[1]), 0
for i = 1, (#KEYS - 2) / 2 do
  local sKey, field = KEYS[1 + 2 * i], ARGV[1 + i]
  local s = redis.call('HGET', sKey, field)
  local e = s and string.match(s, ',(%w+)$')
  if e and tonumber(e, 36) <= now then
    redis.call('HDEL', sKey, field)
    redis.call('HDEL', KEYS[2 + 2 * i], field)
    redis.call('DECR', KEYS[2])
    removed = removed + 1
  end
  if not e or tonumber(e, 36) <= now then redis.call('ZREM', KEYS[1], field) end
end
return removed
`);

// KEYS: consecutive summary buckets, in order
// ARGV[1] now, ARGV[2] reason code ('' for any), ARGV[3] since in epoch ms ('' for any)
// Returns {entries read, bucket offset, {field, summary, ...}, bucket offset, {...}, ...} for the
// buckets with live entries that match. Filtering here, not in Node, because most buckets of a sparse
// store or a narrow filter return nothing, and one script is ~10x cheaper than a pipeline of HGETALLs.
export const LIST = defineScript(`
local now, reason, since = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out, read = {0}, 0
for i, key in ipairs(KEYS) do
  local entries = redis.call('HGETALL', key)
  read = read + #entries / 2
  local matched = {}
  for j = 1, #entries, 2 do
    local s = entries[j + 1]
    local e = string.match(s, ',(%w+)$')
    if (e == nil or tonumber(e, 36) > now)
      and (reason == '' or string.sub(s, 1, 1) == reason)
      and (since == nil or tonumber(string.match(s, '^%a(%w+)'), 36) >= since) then
      matched[#matched + 1] = entries[j]
      matched[#matched + 1] = s
    end
  end
  if #matched > 0 then
    out[#out + 1] = i - 1
    out[#out + 1] = matched
  end
end
out[1] = read
return out
`);

// KEYS: the summary bucket of each address; ARGV: the field of each address, in the same order
// Returns the summary of each address, or nil. One command instead of a pipeline of HGETs: for a batch
// of 50 it is 2-4x cheaper for the Node process, which is the bottleneck of the SMTP hot path.
export const CHECK = defineScript(`
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGET', key, ARGV[i]) end
return out
`);

// KEYS[1] addressing-mode marker, KEYS[2] entry counter
// ARGV[1] this store's mode ('' to only read), ARGV[2] '1' to claim a list that has entries but no marker
// Returns {marker ('' for none), stored entries}. The marker is set to ARGV[1] when the list holds no
// entries (a new list, or one emptied to start afresh), or when ARGV[2] says its entries were checked.
export const CLAIM_MODE = defineScript(`
local marker = redis.call('GET', KEYS[1])
local entries = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and marker ~= ARGV[1] and (entries <= 0 or (not marker and ARGV[2] == '1')) then
  redis.call('SET', KEYS[1], ARGV[1])
  marker = ARGV[1]
end
return {marker or '', entries}
`);
