// The BullMQ worker around the deliverer: runs jobs with the configured concurrency, removes a
// delivered message's bytes, keeps a failed one's for FAILED_JOB_RETENTION, and sends a DSN to the
// envelope sender when a message accepted earlier fails for good.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { withDeadline } from '../shared/deadline.js';
import type { Keys } from '../shared/keys.js';
import { OUTBOUND_QUEUE } from '../shared/keys.js';
import { createRepeatFilter } from '../shared/log-repeats.js';
import type { Logger } from '../shared/logger.js';
import type { TraceStore } from '../trace/trace-store.js';
import { REFUSALS_ENDED_FIELD } from './chunk-records.js';
import type { createDeliverer } from './deliver.js';
import type { DsnSender } from './dsn-sender.js';
import type { SendJobData, SendJobResult } from './job.js';
import { RETRY_BACKOFF_TYPE, retryDelayMs, type RetryPolicy } from './retry.js';

/** How long start() waits for the worker's connection to Redis. */
const READY_WAIT_MS = 3000;
/**
 * How long stop() waits for what finished jobs set off (a DSN to queue, bytes to remove or keep):
 * long enough for a few Redis round trips and a DSN's write, short of holding a shutdown through a
 * Redis outage.
 */
const SETTLE_WAIT_MS = 10_000;
/** How often one kind of worker error is logged at most; repeats in between are only counted. */
const WORKER_ERROR_LOG_INTERVAL_MS = 10_000;

export interface WorkerOptions {
  connection: Redis;
  redis: Redis;
  keys: Keys;
  logger: Logger;
  concurrency: number;
  retry: RetryPolicy;
  deliver: ReturnType<typeof createDeliverer>;
  dsn: DsnSender | undefined;
  /** How long the bytes and chunk records of a finally failed message are kept. */
  failedRetentionMs: number;
  trace?: TraceStore;
  /** WORKER_LOCK_DURATION: how long a job's lock lives unless renewed (renewed every half of it). */
  lockDurationMs?: number;
  /** WORKER_STALLED_INTERVAL: how often this worker looks for jobs whose worker died. */
  stalledIntervalMs?: number;
  /**
   * How often a job may be found stalled (its worker died) before it fails. Jobs wait inside the
   * pacer while active, so one crash stalls many at once; BullMQ's default of 1 would fail a message
   * after two crashes.
   */
  maxStalledCount?: number;
}

export interface SendWorker {
  start(): Promise<void>;
  /** Waits for the jobs in progress to end (see DeliverDeps.stopping), then stops. */
  stop(): Promise<void>;
  setConcurrency(concurrency: number): void;
}

function isFinalFailure(job: Job, err: Error): boolean {
  return (
    err instanceof UnrecoverableError ||
    err.name === 'UnrecoverableError' ||
    job.attemptsMade >= (job.opts.attempts ?? 1)
  );
}

export function createSendWorker(options: WorkerOptions): SendWorker {
  const { redis, keys, logger } = options;
  /**
   * What a job's end sets off (removing a delivered message's bytes, keeping a failed one's, its
   * DSN): stop() waits for it, so a call that completes during a shutdown is followed through
   * before the Redis connections close under it.
   */
  const settling = new Set<Promise<void>>();
  function settle(work: Promise<unknown>): void {
    const done = work.then(
      () => undefined,
      () => undefined,
    );
    settling.add(done);
    void done.then(() => settling.delete(done));
  }

  const worker = new Worker<SendJobData, SendJobResult>(OUTBOUND_QUEUE, options.deliver, {
    connection: options.connection,
    prefix: keys.bullPrefix,
    concurrency: options.concurrency,
    autorun: false,
    // Left to BullMQ's defaults (30 s each) unless configured.
    ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
    ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === RETRY_BACKOFF_TYPE ? retryDelayMs(attemptsMade, options.retry) : 0,
    },
  });

  worker.on('completed', (job) => {
    // Bytes are dropped once the message is out; the job record stays for the dashboard.
    const { queueId } = job.data;
    settle(
      redis
        .del(keys.raw(queueId), keys.sentChunks(queueId), keys.refusedChunks(queueId))
        .catch((err: Error) => {
          logger.warn({ queueId, err: err.message }, 'queue.cleanup_failed');
        }),
    );
  });

  worker.on('failed', (job, err) => {
    if (!job || !isFinalFailure(job, err)) return;
    logger.error(
      {
        queueId: job.data.queueId,
        messageId: job.data.messageId,
        attempts: job.attemptsMade,
        reason: err.message,
      },
      'queue.failed',
    );
    // Kept for inspection and a manual retry, then gone with the failed job itself. The refusals
    // are marked ended: they stay readable, but a manual retry tries those chunks again.
    const refused = keys.refusedChunks(job.data.queueId);
    settle(
      redis
        .multi()
        .pexpire(keys.raw(job.data.queueId), options.failedRetentionMs)
        .pexpire(keys.sentChunks(job.data.queueId), options.failedRetentionMs)
        .hset(refused, REFUSALS_ENDED_FIELD, String(Date.now()))
        .pexpire(refused, options.failedRetentionMs)
        .exec(),
    );
    if (options.trace) {
      settle(options.trace.record(job.data.queueId, { type: 'failed', at: Date.now(), reason: err.message }));
    }
    if (options.dsn) {
      settle(
        options.dsn.send(job.data, err.message).catch((dsnErr: Error) => {
          logger.error({ queueId: job.data.queueId, err: dsnErr.message }, 'dsn.failed');
        }),
      );
    }
  });

  // BullMQ retries a failing call at once, so one fault (Redis refusing a script) can emit thousands
  // of errors a second: log each kind once per interval, with the count of those held back.
  const workerErrors = createRepeatFilter(WORKER_ERROR_LOG_INTERVAL_MS);
  worker.on('error', (err) => {
    const verdict = workerErrors.admit(err.message);
    if (!verdict.log) return;
    const repeated = verdict.repeated > 0 ? { repeated: verdict.repeated } : {};
    logger.error({ err: err.message, ...repeated }, 'worker.error');
  });

  return {
    async start() {
      void worker.run().catch((err: Error) => logger.fatal({ err: err.message }, 'worker.crashed'));
      // BullMQ connects on its own, and takes jobs once Redis answers: a Redis that is down at start
      // must not hold start-up.
      await withDeadline(worker.waitUntilReady(), READY_WAIT_MS, 'the worker connection').catch(() =>
        logger.warn('worker.redis_pending: Redis does not answer yet; jobs are taken once it does'),
      );
    },
    async stop() {
      await worker.close();
      await withDeadline(Promise.all(settling), SETTLE_WAIT_MS, 'the ends of finished jobs').catch(
        (err: Error) => logger.warn({ err: err.message, pending: settling.size }, 'worker.settle_timeout'),
      );
    },
    setConcurrency(concurrency) {
      if (worker.concurrency !== concurrency) worker.concurrency = concurrency;
    },
  };
}
