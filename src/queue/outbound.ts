// The outbound queue as the producer side sees it, with the job options every message gets.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import { OUTBOUND_QUEUE } from '../shared/keys.js';
import type { SendJobData } from './job.js';
import { RETRY_BACKOFF_TYPE, type RetryPolicy } from './retry.js';

export interface OutboundQueueOptions {
  connection: Redis;
  keys: Keys;
  retry: RetryPolicy;
  completedRetentionMs: number;
  failedRetentionMs: number;
  logger: Logger;
}

export function createOutboundQueue(options: OutboundQueueOptions): Queue<SendJobData> {
  const queue = new Queue<SendJobData>(OUTBOUND_QUEUE, {
    connection: options.connection,
    prefix: options.keys.bullPrefix,
    // BullMQ reads the server version (INFO) once while it sets the queue up and keeps the outcome
    // for good: a connection drop during that one command left the queue refusing every job until
    // a restart. The gateway checks the version itself at start-up (redis-checks.ts).
    skipVersionCheck: true,
    defaultJobOptions: {
      attempts: options.retry.attempts,
      backoff: { type: RETRY_BACKOFF_TYPE },
      removeOnComplete: { age: Math.ceil(options.completedRetentionMs / 1000), count: 100_000 },
      removeOnFail: { age: Math.ceil(options.failedRetentionMs / 1000) },
    },
  });
  // Connection errors are already logged once per distinct error by the Redis factory.
  queue.on('error', (err) => options.logger.debug({ err: err.message }, 'queue.error'));
  return queue;
}
