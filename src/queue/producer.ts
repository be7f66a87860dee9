// Puts an accepted message into Redis: the bytes and the job that points at them. The SMTP 250 is
// sent only after both writes succeeded. A failure or a timeout removes what was
// written (best effort) and surfaces as QUEUE_UNAVAILABLE (451). If even the clean-up cannot
// reach Redis, the bytes carry a TTL and expire on their own. With REDIS_WAIT_REPLICAS the job is
// added delayed and made due only once the replicas hold the message: a worker must not send a
// message whose client is then told 451 (and sends it again).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { withDeadline } from '../shared/deadline.js';
import { RelayError, errorMessage } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import { defineScript, runScript } from '../shared/lua.js';
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

/**
 * Moves a spooled message into place, or refuses it unless it is whole: the spool key gone (a
 * failover to a replica that never had it, an eviction) or holding fewer bytes than arrived (Redis
 * lost its first part and an APPEND made the key anew). One round trip, one hash slot (every key of
 * a deployment shares its hash tag).
 * KEYS: the spool key, the raw key. ARGV: the raw key's TTL (ms), the message's size in bytes.
 */
const MOVE_SPOOLED = defineScript(`
local length = redis.call('STRLEN', KEYS[1])
if length ~= tonumber(ARGV[2]) then
  return redis.error_reply('SPOOL_INCOMPLETE the spooled message has ' .. length .. ' of its ' .. ARGV[2] .. ' bytes')
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return length
`);

/**
 * Beyond the write and its clean-up (each bounded by timeoutMs), how long a job added before WAIT
 * stays delayed: a delayed job is due by the clock of the worker's host, which may run ahead.
 */
const REPLICA_HOLD_MARGIN_MS = 5000;

export interface Producer {
  /** The message bytes are in memory. */
  enqueue(data: SendJobData, raw: Buffer): Promise<void>;
  /** The message bytes were spooled to `spoolKey` while they arrived (large messages). */
  enqueueSpooled(data: SendJobData, spoolKey: string): Promise<void>;
}

export function createProducer(options: ProducerOptions): Producer {
  const { queue, redis, keys } = options;

  async function write(data: SendJobData, bytes: Buffer | { spoolKey: string }): Promise<void> {
    const replicas = options.waitReplicas ?? 0;
    // Both writes go out back to back on one connection (one round trip). If either fails, the
    // caller removes both, so a job never outlives a refused message and vice versa.
    const stored = Buffer.isBuffer(bytes)
      ? redis.set(keys.raw(data.queueId), bytes, 'PX', options.rawTtlMs)
      : runScript(
          redis,
          MOVE_SPOOLED,
          [bytes.spoolKey, keys.raw(data.queueId)],
          [options.rawTtlMs, data.size],
        );
    // Waiting for replicas, the job is held back until they acknowledged: by then the write has
    // ended (promoted) or its clean-up has removed it, or they have run out of time trying.
    const jobOptions =
      replicas > 0
        ? { jobId: data.queueId, delay: 2 * options.timeoutMs + REPLICA_HOLD_MARGIN_MS }
        : { jobId: data.queueId };
    const [, job] = await Promise.all([stored, queue.add(SEND_JOB_NAME, data, jobOptions)]);
    if (replicas === 0) return;
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
    // The replicas hold it: the message is safe, and a promotion that fails only leaves it to be
    // sent once its delay is over.
    await job.promote().catch(() => undefined);
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
