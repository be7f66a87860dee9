// Books SES send slots in Redis (see scripts.ts for the algorithm and its bound): the earliest time
// at which N more recipients keep every sliding window at or under the cap. Time is Redis server
// time, so clock skew between hosts does not matter.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RELEASE_LUA, RESERVE_LUA, TIME_LUA } from './scripts.js';

const RESERVE_SHA = createHash('sha1').update(RESERVE_LUA).digest('hex');
const RELEASE_SHA = createHash('sha1').update(RELEASE_LUA).digest('hex');
const TIME_SHA = createHash('sha1').update(TIME_LUA).digest('hex');

/** Recipients a hold counts for: more than any rate, so no send shares a window with a hold. */
const HOLD_COUNT = 1e12;

export interface ReserveRequest {
  recipients: number;
  /** Recipients allowed in any window of `windowMs`. */
  cap: number;
  /** A whole number of slots. */
  windowMs: number;
  slotMs: number;
  /** Recipients a slot that already has a booking may hold; an empty slot takes any booking. */
  slotCap: number;
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
    String(request.slotCap),
    request.nowMs === undefined ? '' : String(Math.round(request.nowMs * 1000)),
    ...slotArgs(request.giveBack ?? []),
  ];
  const reply = await evalCached(redis, RESERVE_SHA, RESERVE_LUA, key, args);
  if (!Array.isArray(reply) || reply.length < 2 || !reply.every((v) => typeof v === 'number')) {
    throw new Error(`pacer script returned ${JSON.stringify(reply)}`);
  }
  const [nowUs, atMs, ...holds] = reply;
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

/** Redis time in ms, as seen by the node that holds `key`. */
export async function redisTimeAt(redis: Redis, key: string): Promise<number> {
  const reply = await evalCached(redis, TIME_SHA, TIME_LUA, key, []);
  const ms = Number(reply);
  if (!Number.isFinite(ms)) throw new Error(`pacer time script returned ${JSON.stringify(reply)}`);
  return ms;
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
