// Operator control of sending: pause and resume through the shared hold (so metrics, /admin and the
// SES probe all see who paused and why), and retrying failed jobs. Used by the admin API and the CLI.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HoldState, SendingHolds } from '../queue/holds.js';
import { createKeys, OUTBOUND_QUEUE } from '../shared/keys.js';

/** Retries in flight at once: quick for thousands of jobs without a burst of scripts on Redis. */
const RETRY_CONCURRENCY = 16;

export interface PauseResult {
  /** The hold now in force: an earlier hold (say, SES's) keeps its reason until someone resumes. */
  hold: HoldState | null;
  /** False when sending was already on hold. */
  fresh: boolean;
}

/**
 * BullMQ's lists and sets of jobs by state (it names its keys `<prefix>:<queue>:<suffix>`); only
 * messages put them there. Not its `meta` hash: any Queue object writes that when created, an
 * operator command's included, so it would prove nothing after the first command on a prefix.
 */
const JOB_STATE_SUFFIXES = [
  'wait',
  'paused',
  'active',
  'delayed',
  'prioritized',
  'failed',
  'completed',
  'waiting-children',
] as const;

/**
 * Whether a gateway has used `prefix` on this Redis: a worker's state (the SES account snapshot, the
 * reputation guard's reading, which it publishes at every check) or messages in the queue. False for
 * a mistyped REDIS_PREFIX, where a pause or resume would act on nothing. One EXISTS per key: on a
 * Cluster, keys without a common hash tag cannot share a command.
 */
export async function prefixInUse(redis: Redis, prefix: string): Promise<boolean> {
  const keys = createKeys(prefix);
  const names = [
    keys.accountState,
    keys.reputation,
    ...JOB_STATE_SUFFIXES.map((suffix) => `${keys.bullPrefix}:${OUTBOUND_QUEUE}:${suffix}`),
  ];
  const found = await Promise.all(names.map((name) => redis.exists(name)));
  return found.some((count) => count > 0);
}

/** The reason recorded when an operator pauses without giving one. */
export const DEFAULT_PAUSE_REASON = 'paused by an operator';

export async function pauseSending(
  holds: SendingHolds,
  reason: string = DEFAULT_PAUSE_REASON,
): Promise<PauseResult> {
  const fresh = await holds.pause({ reason, by: 'operator' });
  return { hold: (await holds.current()) ?? null, fresh };
}

export interface ResumeResult {
  /** The hold that was lifted, if there was one. */
  previous: HoldState | null;
}

/**
 * Lifts any hold, an SES one included: the operator may know the account was re-enabled before the
 * periodic probe does. If SES still refuses, the worker pauses again on its first call.
 */
export async function resumeSending(holds: SendingHolds): Promise<ResumeResult> {
  const previous = (await holds.current()) ?? null;
  await holds.resume();
  return { previous };
}

export interface RetryResult {
  /** Jobs moved from failed back to waiting. */
  retried: number;
  /** Jobs that left the failed set before their turn (retried or removed by someone else). */
  skipped: number;
}

/**
 * Moves failed jobs back to waiting, oldest failure first: all of them, or up to `limit`. The ids are
 * read once up front, so jobs failing meanwhile wait for the next call and the loop always ends.
 * Each retried job gets its whole retry schedule again: the operator retries because the cause was
 * fixed, and a job out of attempts would otherwise fail on its first error.
 */
export async function retryFailed(queue: Queue, options: { limit?: number } = {}): Promise<RetryResult> {
  const end = options.limit === undefined ? -1 : options.limit - 1;
  const ids = await queue.getRanges(['failed'], 0, end, true);
  const result: RetryResult = { retried: 0, skipped: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const job = await queue.getJob(id);
      if (!job) {
        result.skipped++;
        continue;
      }
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        result.retried++;
      } catch (err) {
        // Not in the failed set any more: another operator or the dashboard got there first. Any
        // other failure (Redis gone) is the caller's to see.
        if ((await queue.getJobState(id)) === 'failed') throw err;
        result.skipped++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RETRY_CONCURRENCY, ids.length) }, worker));
  return result;
}
