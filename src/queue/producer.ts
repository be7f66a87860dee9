// Puts an accepted message into Redis: the bytes and the job that points at them. The SMTP 250 is
// sent only after both writes succeeded. A failure or a timeout removes what was
// written (best effort) and surfaces as QUEUE_UNAVAILABLE (451). If even the clean-up cannot
// reach Redis, the bytes carry a TTL and expire on their own.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { withDeadline } from '../shared/deadline.js';
import { RelayError, errorMessage } from '../shared/errors.js';
import { execPipeline } from '../shared/redis-exec.js';
import type { Keys } from '../shared/keys.js';
import { waitForReplicas } from '../shared/redis-wait.js';
import { SEND_JOB_NAME, type SendJobData } from './job.js';

export interface ProducerOptions {
  queue: Queue<SendJobData>;
  redis: Redis;
  keys: Keys;
  /** How long stored bytes may live: the longest a message can wait plus its failed-job retention. */
  rawTtlMs: number;
  /** Upper bound for the whole write, so a slow Redis turns into a prompt 451. */
  timeoutMs: number;
  /** REDIS_WAIT_REPLICAS: replicas that must have the write before the 250 (0 = do not wait). */
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

export interface Producer {
  /** The message bytes are in memory. */
  enqueue(data: SendJobData, raw: Buffer): Promise<void>;
  /** The message bytes were spooled to `spoolKey` while they arrived (large messages). */
  enqueueSpooled(data: SendJobData, spoolKey: string): Promise<void>;
}

export function createProducer(options: ProducerOptions): Producer {
  const { queue, redis, keys } = options;

  async function write(data: SendJobData, bytes: Buffer | { spoolKey: string }): Promise<void> {
    // Both writes go out back to back on one connection (one round trip). If either fails, the
    // caller removes both, so a job never outlives a refused message and vice versa.
    const stored = Buffer.isBuffer(bytes)
      ? redis.set(keys.raw(data.queueId), bytes, 'PX', options.rawTtlMs)
      : // A spool key lost meanwhile (a failover to a replica that never had it, an eviction)
        // fails the RENAME inside EXEC: that must be a 451, never a 250 for a job with no bytes.
        execPipeline(
          redis
            .multi()
            .rename(bytes.spoolKey, keys.raw(data.queueId))
            .pexpire(keys.raw(data.queueId), options.rawTtlMs),
        );
    await Promise.all([stored, queue.add(SEND_JOB_NAME, data, { jobId: data.queueId })]);
    const replicas = options.waitReplicas ?? 0;
    if (replicas > 0) {
      // WAIT covers every earlier write of this connection, so both writes above are included
      // (on a Cluster: of the connection to the node that holds them).
      const acknowledged = await waitForReplicas(
        redis,
        keys.raw(data.queueId),
        replicas,
        options.waitTimeoutMs ?? 1000,
      );
      if (acknowledged < replicas) {
        throw new RelayError(
          'REDIS_REPLICAS_LAGGING',
          `${acknowledged} of ${replicas} replicas acknowledged in time`,
        );
      }
    }
  }

  async function cleanUp(queueId: string, spoolKey?: string): Promise<void> {
    const keysToDelete = spoolKey ? [keys.raw(queueId), spoolKey] : [keys.raw(queueId)];
    await Promise.allSettled([redis.del(...keysToDelete), queue.remove(queueId)]);
  }

  async function store(data: SendJobData, bytes: Buffer | { spoolKey: string }): Promise<void> {
    try {
      await withDeadline(write(data, bytes), options.timeoutMs, 'queueing the message');
    } catch (err) {
      const spoolKey = Buffer.isBuffer(bytes) ? undefined : bytes.spoolKey;
      await withDeadline(cleanUp(data.queueId, spoolKey), options.timeoutMs, 'clean-up').catch(
        () => undefined,
      );
      throw new RelayError('QUEUE_UNAVAILABLE', `queue unavailable: ${errorMessage(err)}`, { cause: err });
    }
  }

  return {
    enqueue: (data, raw) => store(data, raw),
    enqueueSpooled: (data, spoolKey) => store(data, { spoolKey }),
  };
}
