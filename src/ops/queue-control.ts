// Operator control of sending: pause and resume through the shared hold (so metrics, /admin and the
// SES probe all see who paused and why), and retrying failed jobs. Used by the admin API and the CLI.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HoldState, SendingHolds } from '../queue/holds.js';
import { createKeys, OUTBOUND_QUEUE, type Keys } from '../shared/keys.js';
import { execPipeline } from '../shared/redis-exec.js';

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

export interface RetryOptions {
  /** At most this many, oldest failure first; all when not given. */
  limit?: number;
  /**
   * Where the messages' bytes live and how long to keep them from the retry: QUEUE_MAX_AGE +
   * FAILED_JOB_RETENTION, as at intake. A failed message's bytes (and its record of the chunks SES
   * already took) expire with the failed job; retried days after the failure, the message would
   * lose them part-way through its new lifetime.
   */
  bytes?: { redis: Redis; keys: Keys; ttlMs: number };
}

async function keepBytes(bytes: NonNullable<RetryOptions['bytes']>, queueId: string): Promise<void> {
  const { redis, keys, ttlMs } = bytes;
  await execPipeline(
    redis.multi().pexpire(keys.raw(queueId), ttlMs).pexpire(keys.sentChunks(queueId), ttlMs),
  );
}

/**
 * Moves one failed job back to waiting with its whole retry schedule and a fresh queue lifetime
 * (below). 'skipped' when it is gone or no longer failed: another operator or the dashboard got
 * there first. Any other failure (Redis gone) is the caller's to see.
 */
export async function retryFailedJob(
  queue: Queue,
  id: string,
  bytes?: RetryOptions['bytes'],
): Promise<'retried' | 'skipped'> {
  const job = await queue.getJob(id);
  if (!job) return 'skipped';
  try {
    // Before the retry: a worker may take the job the moment it is back in the queue.
    await job.updateData({ ...job.data, retriedAt: Date.now() });
    if (bytes) await keepBytes(bytes, id);
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return 'retried';
  } catch (err) {
    if ((await queue.getJobState(id)) === 'failed') throw err;
    return 'skipped';
  }
}

/**
 * Moves failed jobs back to waiting, oldest failure first: all of them, or up to `limit`. The ids are
 * read once up front, so jobs failing meanwhile wait for the next call and the loop always ends.
 * Each retried job gets its whole retry schedule again, and its queue lifetime counts from the retry
 * (`retriedAt`): the operator retries because the cause was fixed, and a job out of attempts, or
 * past QUEUE_MAX_AGE (every message a lasting transient failure such as a missing SES permission
 * failed), would otherwise fail again at once without a send.
 */
export async function retryFailed(queue: Queue, options: RetryOptions = {}): Promise<RetryResult> {
  const end = options.limit === undefined ? -1 : options.limit - 1;
  const ids = await queue.getRanges(['failed'], 0, end, true);
  const result: RetryResult = { retried: 0, skipped: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      result[await retryFailedJob(queue, ids[next++]!, options.bytes)]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(RETRY_CONCURRENCY, ids.length) }, worker));
  return result;
}
