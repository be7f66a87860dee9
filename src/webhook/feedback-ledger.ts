// Remembers which SNS messages were applied and counts them into the daily stats, in one atomic
// step. Because the "done" marker and the counters are written by the same script, a message is
// counted exactly once however often SNS delivers it, even when two deliveries race.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeedbackKeys } from './keys.js';
import { STATS_TTL_MS, utcDay, type StatCounts } from './stats.js';

// commit-feedback-2
// KEYS[1] done marker of the SNS message
// KEYS[2] stats hash of the UTC day
// ARGV[1] done marker TTL (ms)   ARGV[2] stats hash TTL (ms)   ARGV[3..] field, increment pairs
// Returns 1 when this call committed the message, 0 when it had been committed already.
const COMMIT_FEEDBACK_LUA = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
if #ARGV > 2 then
  for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
`;
const COMMIT_FEEDBACK_SHA = crypto.createHash('sha1').update(COMMIT_FEEDBACK_LUA).digest('hex');

export interface FeedbackLedger {
  isDone(snsMessageId: string): Promise<boolean>;
  /** Marks the message done and adds its counts to the day of `at`; false if it was done already. */
  commit(snsMessageId: string, counts: StatCounts, at: number): Promise<boolean>;
}

export interface FeedbackLedgerOptions {
  redis: Redis;
  keys: FeedbackKeys;
  /** How long a done marker lives: the window in which a redelivery is recognised. */
  doneTtlMs: number;
}

export function createFeedbackLedger({ redis, keys, doneTtlMs }: FeedbackLedgerOptions): FeedbackLedger {
  async function runCommit(keyArgs: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(COMMIT_FEEDBACK_SHA, keyArgs.length, ...keyArgs, ...args);
    } catch (err) {
      // After a Redis restart or SCRIPT FLUSH the script is gone: send it once in full.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(COMMIT_FEEDBACK_LUA, keyArgs.length, ...keyArgs, ...args);
    }
  }

  return {
    async isDone(snsMessageId) {
      return (await redis.exists(keys.done(snsMessageId))) === 1;
    },
    async commit(snsMessageId, counts, at) {
      const args: (string | number)[] = [doneTtlMs, STATS_TTL_MS];
      for (const [field, by] of counts) if (by !== 0) args.push(field, by);
      const reply = await runCommit([keys.done(snsMessageId), keys.statsDay(utcDay(at))], args);
      return reply === 1;
    },
  };
}
