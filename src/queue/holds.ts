// Global holds on sending, shared by every worker through Redis:
// - a paused account (SendingPaused / AccountSuspended / GetAccount says disabled) pauses the
//   BullMQ queue itself, with the reason recorded so operators and /readyz can see why; intake
//   keeps accepting and queueing mail meanwhile;
// - a throttling answer sets a short back-off that every worker waits out before its next call.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export interface HoldState {
  reason: string;
  since: number;
  /** 'ses' when SES caused it (the probe may lift it), 'operator' for a manual pause. */
  by: 'ses' | 'operator' | 'reputation';
}

export interface SendingHolds {
  pause(state: Omit<HoldState, 'since'>): Promise<boolean>;
  resume(): Promise<void>;
  current(): Promise<HoldState | undefined>;
  /** Makes every worker wait at least `ms` before its next SES call. */
  throttle(ms: number): Promise<void>;
  throttleRemainingMs(): Promise<number>;
}

export function createSendingHolds(options: {
  redis: Redis;
  queue: Queue;
  holdKey: string;
  throttleKey: string;
}): SendingHolds {
  const { redis, queue, holdKey, throttleKey } = options;
  return {
    async pause(state) {
      // HSETNX on 'since': the first reason wins until someone resumes, except that an operator's
      // pause takes an automatic hold over, so the SES probe does not lift what a person decided.
      const fresh = (await redis.hsetnx(holdKey, 'since', String(Date.now()))) === 1;
      const takeOver = !fresh && state.by === 'operator' && (await redis.hget(holdKey, 'by')) !== 'operator';
      if (fresh || takeOver) await redis.hset(holdKey, 'reason', state.reason, 'by', state.by);
      await queue.pause();
      return fresh;
    },
    async resume() {
      await redis.del(holdKey);
      await queue.resume();
    },
    async current() {
      const fields = await redis.hgetall(holdKey);
      if (!fields.since) return undefined;
      return {
        reason: fields.reason ?? '',
        since: Number(fields.since),
        by: (fields.by ?? 'ses') as HoldState['by'],
      };
    },
    async throttle(ms) {
      // Only ever lengthens an existing back-off (GT needs Redis 7).
      await redis.set(throttleKey, '1', 'PX', Math.max(1, Math.round(ms)), 'NX');
      await redis.pexpire(throttleKey, Math.max(1, Math.round(ms)), 'GT');
    },
    async throttleRemainingMs() {
      return Math.max(0, await redis.pttl(throttleKey));
    },
  };
}
