// The Redis side of the pacer: one Lua script that books the earliest send time at which N more
// recipients keep every sliding window at or under the cap. All state is one hash of time slots (one
// key, so it runs unchanged on Redis Cluster); time is Redis server time, so clock skew between hosts
// does not matter.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

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
 * the script checks exactly those.
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

const RESERVE_LUA = `
--[[ pacer-reserve-1: book the earliest send slot at or after now for N recipients.
KEYS[1]  hash; field = slot start in ms (Redis clock), value = recipients booked in the slot, or
         HOLD for a hold written after an oversized send
ARGV[1]  recipients N (integer >= 1)
ARGV[2]  cap: recipients allowed in any window (the rate; may be fractional)
ARGV[3]  window length in ms (a multiple of the slot length)
ARGV[4]  slot length in ms
ARGV[5]  HOLD: the count of a hold, larger than any cap
ARGV[6]  now in microseconds, or '' for Redis TIME (explicit times are for deterministic tests)
ARGV[7..] pairs slot, count of an earlier booking to give back first (a late wake-up re-booking)
Returns  { now in microseconds, booked slot, hold slots... } ]]
${GIVE_BACK_LUA}
local key = KEYS[1]
local n = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local W = tonumber(ARGV[3])
local Q = tonumber(ARGV[4])
local HOLD = tonumber(ARGV[5])
giveBack(key, 7)
local nowUs
if ARGV[6] ~= '' then
  nowUs = tonumber(ARGV[6])
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
    -- Always ends: at s = t[k] + W no booked slot is in reach and N <= cap.
    if A + n <= cap and fullest + n <= cap then break end
    while p <= k and t[p] + W <= s do p = p + 1 end
    while q <= k and t[q] <= s do q = q + 1 end
    local nextS = t[p] + W
    if q <= k and t[q] < nextS then nextS = t[q] end
    s = nextS
  end
  redis.call('HINCRBY', key, s, n)
end
redis.call('PEXPIRE', key, math.ceil(last - now + W) + 1000)
local reply = { nowUs, s }
for _, h in ipairs(holds) do reply[#reply + 1] = h end
return reply
`;

const RELEASE_LUA = `
--[[ pacer-release-1: give back a booking that will not be sent.
KEYS[1]  the pacer hash
ARGV     pairs slot, count ]]
${GIVE_BACK_LUA}
giveBack(KEYS[1], 1)
return 0
`;

const RESERVE_SHA = createHash('sha1').update(RESERVE_LUA).digest('hex');
const RELEASE_SHA = createHash('sha1').update(RELEASE_LUA).digest('hex');

/** Recipients a hold counts for: more than any rate, so no send shares a window with a hold. */
const HOLD_COUNT = 1e12;

export interface ReserveRequest {
  recipients: number;
  /** Recipients allowed in any window of `windowMs`. */
  cap: number;
  /** A whole number of slots. */
  windowMs: number;
  slotMs: number;
  /** Slots of an earlier booking to give back in the same step (a late wake-up re-booking). */
  giveBack?: readonly BookedSlot[];
  /** Pretend Redis time, for deterministic tests only. */
  nowMs?: number;
}

export interface BookedSlot {
  slotMs: number;
  count: number;
}

export interface Reservation {
  /** Redis time when the script ran (ms). */
  redisNowMs: number;
  /** How long after the script ran the caller may send; 0 means now. */
  waitMs: number;
  /** The booked send time on the Redis clock (ms). */
  atMs: number;
  /** What to give back if the send does not happen. */
  slots: BookedSlot[];
}

export async function reserveSendTime(
  redis: Redis,
  key: string,
  request: ReserveRequest,
): Promise<Reservation> {
  if (request.windowMs % request.slotMs !== 0) throw new RangeError('windowMs must be a multiple of slotMs');
  const args = [
    String(request.recipients),
    String(request.cap),
    String(request.windowMs),
    String(request.slotMs),
    String(HOLD_COUNT),
    request.nowMs === undefined ? '' : String(Math.round(request.nowMs * 1000)),
    ...slotArgs(request.giveBack ?? []),
  ];
  const reply = await evalCached(redis, RESERVE_SHA, RESERVE_LUA, key, args);
  if (!Array.isArray(reply) || reply.length < 2 || !reply.every((v) => typeof v === 'number')) {
    throw new Error(`pacer script returned ${JSON.stringify(reply)}`);
  }
  const [nowUs, atMs, ...holds] = reply as number[];
  return {
    redisNowMs: nowUs! / 1000,
    waitMs: atMs! - nowUs! / 1000,
    atMs: atMs!,
    slots: [
      { slotMs: atMs!, count: request.recipients },
      ...holds.map((slotMs) => ({ slotMs, count: HOLD_COUNT })),
    ],
  };
}

/** Gives back a booking whose send will not happen. It only frees capacity, so the bound still holds. */
export async function releaseReservation(
  redis: Redis,
  key: string,
  slots: readonly BookedSlot[],
): Promise<void> {
  if (slots.length > 0) await evalCached(redis, RELEASE_SHA, RELEASE_LUA, key, slotArgs(slots));
}

function slotArgs(slots: readonly BookedSlot[]): string[] {
  return slots.flatMap((slot) => [String(slot.slotMs), String(slot.count)]);
}

async function evalCached(
  redis: Redis,
  sha: string,
  lua: string,
  key: string,
  args: string[],
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, 1, key, ...args);
  } catch (err) {
    // After a Redis restart or SCRIPT FLUSH the cache is empty; EVAL loads the script again.
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(lua, 1, key, ...args);
  }
}
