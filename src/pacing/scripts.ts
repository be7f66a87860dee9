// The Lua side of the pacer: booking a send slot, giving one back, and reading Redis time. All state
// is one hash of time slots under one key, so the scripts run unchanged on Redis Cluster.

/*
 * Why bookings and not "admit now or retry later": a caller learns its send time in one round trip
 * and sleeps until then, so waiting callers never poll Redis and are served in the order they asked
 * (a 50-recipient chunk is not starved by a stream of 1-recipient ones). A later, smaller request may
 * still take an earlier gap when that gap is free in every window it touches (backfill), which keeps
 * the achieved rate near the cap when chunks are large next to the rate.
 *
 * The bound. Bookings are (slot, count), a slot being a send time rounded up to SLOT_MS (rounding
 * keeps the hash near W / SLOT_MS fields, so one call costs the same at 100/s and 5,000/s). After
 * every booking, each slot's own window (t - W, t] holds at most `cap`. Any window (a, a + W] holds
 * no more than the window ending at its last slot, so every window of length W holds at most `cap`.
 * A booking at s changes the window ending at s and the windows ending at later slots in (s, s + W);
 * the script checks exactly those. Holds (after an oversized send, see below) count as more than
 * any cap, so no send can share a window with one.
 *
 * Spreading. A slot that already has a booking takes at most `slotCap` recipients. Without it the
 * first window's burst (every sender booking the first slot) would repeat in every later window, as
 * capacity comes free exactly W after each send, and each burst leaves late from a busy process.
 */

// Gives back slots of a booking that will not be sent. Shared by both scripts; a slot that has
// already expired and been deleted is left alone so that no count goes negative.
const GIVE_BACK_LUA = `
local function giveBack(key, from)
  for i = from, #ARGV - 1, 2 do
    if redis.call('HEXISTS', key, ARGV[i]) == 1 then
      if redis.call('HINCRBY', key, ARGV[i], -tonumber(ARGV[i + 1])) <= 0 then
        redis.call('HDEL', key, ARGV[i])
      end
    end
  end
end
`;

export const RESERVE_LUA = `
--[[ pacer-reserve-1: book the earliest send slot at or after now for N recipients.
KEYS[1]  hash; field = slot start in ms (Redis clock), value = recipients booked in the slot, or
         HOLD for a hold written after an oversized send
ARGV[1]  recipients N (integer >= 1)
ARGV[2]  cap: recipients allowed in any window (the rate; may be fractional)
ARGV[3]  window length in ms (a multiple of the slot length)
ARGV[4]  slot length in ms
ARGV[5]  HOLD: the count of a hold, larger than any cap
ARGV[6]  slot cap: recipients a slot that already has a booking may hold (an empty slot takes any N)
ARGV[7]  now in microseconds, or '' for Redis TIME (explicit times are for deterministic tests)
ARGV[8..] pairs slot, count of an earlier booking to give back first (a late wake-up re-booking)
Returns  { now in microseconds, booked slot, hold slots... } ]]
${GIVE_BACK_LUA}
local key = KEYS[1]
local n = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local W = tonumber(ARGV[3])
local Q = tonumber(ARGV[4])
local HOLD = tonumber(ARGV[5])
local slotCap = tonumber(ARGV[6])
giveBack(key, 8)
local nowUs
if ARGV[7] ~= '' then
  nowUs = tonumber(ARGV[7])
else
  local time = redis.call('TIME')
  nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local now = nowUs / 1000

-- A slot at or before now - W shares no window with any s >= now.
local raw = redis.call('HGETALL', key)
local t, count, k = {}, {}, 0
for i = 1, #raw, 2 do
  local slot = tonumber(raw[i])
  if slot <= now - W then
    redis.call('HDEL', key, raw[i])
  else
    k = k + 1
    t[k] = slot
    count[slot] = tonumber(raw[i + 1])
  end
end
table.sort(t)
local c = {}
for i = 1, k do c[i] = count[t[i]] end

-- Slots are aligned, so the earliest candidate is the first slot start at or after now.
local s = math.ceil(now / Q) * Q
local last = s
if k > 0 and t[k] > last then last = t[k] end
local holds = {}
if n > cap then
  -- Oversized (more recipients than one window allows): sent alone, after every booking, with no
  -- other send within W on either side. Holds then keep the pacer shut until s + W * N / cap, so the
  -- long-run rate stays at the cap; only the one window holding this send exceeds it (by N - cap).
  if k > 0 and t[k] + W > s then s = t[k] + W end
  redis.call('HINCRBY', key, s, n)
  local holdUntil = s + math.ceil((n / cap - 1) * W / Q) * Q
  local b = s + W
  -- Holds at most W apart: each shuts (b - W, b + W), so together they leave no gap.
  while b < holdUntil do
    holds[#holds + 1] = b
    b = b + W
  end
  if holdUntil > s then holds[#holds + 1] = holdUntil end
  for _, h in ipairs(holds) do redis.call('HINCRBY', key, h, HOLD) end
  last = math.max(last, s, holdUntil)
else
  -- wt[i]: recipients in the window ending at slot i, (t[i] - W, t[i]].
  local wt, lo, sum = {}, 1, 0
  for i = 1, k do
    sum = sum + c[i]
    while t[lo] <= t[i] - W do sum = sum - c[lo]; lo = lo + 1 end
    wt[i] = sum
  end
  -- Candidates in increasing order: the first slot, each booked slot after it and each expiry
  -- t + W. At s the window (s - W, s] holds slots [aLo, aHi) summing to A; slots in (s, s + W) are
  -- [aHi, bHi), and dq keeps their indices by decreasing wt, so the fullest later window is wt[dq[head]].
  local aLo, aHi, A, bHi = 1, 1, 0, 1
  local dq, head, tail = {}, 1, 0
  local p, q = 1, 1
  while true do
    while aHi <= k and t[aHi] <= s do A = A + c[aHi]; aHi = aHi + 1 end
    while aLo < aHi and t[aLo] <= s - W do A = A - c[aLo]; aLo = aLo + 1 end
    if bHi < aHi then bHi = aHi end
    while bHi <= k and t[bHi] < s + W do
      while tail >= head and wt[dq[tail]] <= wt[bHi] do tail = tail - 1 end
      tail = tail + 1
      dq[tail] = bHi
      bHi = bHi + 1
    end
    while tail >= head and dq[head] < aHi do head = head + 1 end
    local fullest = 0
    if tail >= head then fullest = wt[dq[head]] end
    local windowsFit = A + n <= cap and fullest + n <= cap
    local inSlot = count[s] or 0
    -- Always ends: at s = t[k] + W no booked slot is in reach, the slot is empty and N <= cap.
    if windowsFit and (inSlot == 0 or inSlot + n <= slotCap) then break end
    while p <= k and t[p] + W <= s do p = p + 1 end
    while q <= k and t[q] <= s do q = q + 1 end
    local nextS = math.huge
    if p <= k then nextS = t[p] + W end
    if q <= k and t[q] < nextS then nextS = t[q] end
    -- Only the slot is full: the next slot may do (extra candidates cost time, never the bound).
    if windowsFit and s + Q < nextS then nextS = s + Q end
    s = nextS
  end
  redis.call('HINCRBY', key, s, n)
  last = math.max(last, s)
end
-- The key must outlive its last booking's window, or a later caller would find the window empty.
redis.call('PEXPIRE', key, math.ceil(last - now + W) + 1000)
local reply = { nowUs, s }
for _, h in ipairs(holds) do reply[#reply + 1] = h end
return reply
`;

export const RELEASE_LUA = `
--[[ pacer-release-1: give back a booking that will not be sent.
KEYS[1]  the pacer hash
ARGV     pairs slot, count ]]
${GIVE_BACK_LUA}
giveBack(KEYS[1], 1)
return 0
`;

// Redis time from the node that holds the key (on a Cluster, a plain TIME may go to another node).
export const TIME_LUA = `
--[[ pacer-time-1: Redis TIME in ms. KEYS[1]: the pacer hash, for routing only ]]
local time = redis.call('TIME')
return string.format('%.3f', tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000)
`;
