// Whether Redis can take more mail, read from INFO memory of the master that holds the deployment's
// keys once a second, so a MAIL FROM costs nothing more than a comparison. Two reasons to refuse:
// - Room: under `noeviction` a Redis at `maxmemory` refuses writes, the workers' included: they
//   cannot take a job to send it (that is a write), so a Redis filled to the brim by intake never
//   empties itself. Intake therefore stops taking mail at a high-water mark below `maxmemory`
//   (REDIS_MEMORY_HIGH_WATER), answering `452 4.3.1`, and the workers drain the queue in the room left.
// - Safety: start-up refuses a Redis that may evict, but a Redis restarted with another
//   configuration, a replica promoted with its own, or a CONFIG SET changes the policy later. Mail
//   accepted then could be deleted under memory pressure, so intake answers `451 4.3.0` until the
//   policy is `noeviction` again.
import type { Redis } from 'ioredis';
import { smtpError, type RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { evictingPolicy, parseInfo } from '../shared/redis-checks.js';
import { nodeOwning } from '../shared/redis-nodes.js';

/** How often the memory use is read. */
export const QUEUE_ROOM_CHECK_MS = 1000;

export interface QueueRoom {
  /** Why new transactions are refused at MAIL FROM now, if they are. */
  refusal(): RelayError | undefined;
  stop(): void;
}

export interface QueueRoomOptions {
  redis: Redis;
  /** A key of the deployment: on a Cluster, its slot's master is the one read. */
  deploymentKey: string;
  /** Percent of `maxmemory`; 0 turns the high-water mark off (the policy is watched either way). */
  highWaterPercent: number;
  logger: Logger;
  intervalMs?: number;
}

/** Used memory as a percentage of `maxmemory`, or undefined when Redis has no limit. */
export function memoryPercent(info: Record<string, string>): number | undefined {
  const used = Number(info.used_memory);
  const max = Number(info.maxmemory ?? '0');
  if (!Number.isFinite(used) || !Number.isFinite(max) || max <= 0) return undefined;
  return (used / max) * 100;
}

export function watchQueueRoom(options: QueueRoomOptions): QueueRoom {
  const { redis, logger, highWaterPercent } = options;
  let isFull = false;
  let evicting: string | undefined;

  function readRoom(info: Record<string, string>): void {
    if (highWaterPercent <= 0) return;
    const percent = memoryPercent(info);
    const nowFull = percent !== undefined && percent >= highWaterPercent;
    if (nowFull !== isFull) {
      const fields = { usedPercent: Math.round(percent ?? 0), highWaterPercent };
      if (nowFull) {
        logger.warn(
          fields,
          'smtp.queue_full: Redis memory is at its high-water mark; MAIL FROM answered 452',
        );
      } else {
        logger.info(fields, 'smtp.queue_room: Redis memory is below its high-water mark again');
      }
    }
    isFull = nowFull;
  }

  function readPolicy(info: Record<string, string>): void {
    const policy = evictingPolicy(info);
    if (policy !== evicting) {
      if (policy !== undefined) {
        logger.error(
          { maxmemoryPolicy: policy },
          `redis.eviction_policy: Redis maxmemory-policy is now ${policy}: under memory pressure Redis would delete queued mail; MAIL FROM answered 451 until it is noeviction again (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf or the parameter group)`,
        );
      } else {
        logger.info('redis.eviction_policy_restored: Redis maxmemory-policy is noeviction again');
      }
    }
    evicting = policy;
  }

  async function check(): Promise<void> {
    const node = nodeOwning(redis, options.deploymentKey);
    if (!node || node.status !== 'ready') return;
    const info = parseInfo(await node.info('memory'));
    readPolicy(info);
    readRoom(info);
  }

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    // A failed read changes nothing: while Redis does not answer, the intake answers 451 anyway.
    check()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? QUEUE_ROOM_CHECK_MS);
  timer.unref();
  void check().catch(() => undefined);
  return {
    refusal() {
      if (evicting !== undefined) {
        return smtpError(
          'REDIS_MAY_EVICT',
          'Temporary failure: the queue cannot keep mail safely now, try again later',
        );
      }
      if (isFull)
        return smtpError('QUEUE_FULL', 'Insufficient system storage: the queue is full, try again later');
      return undefined;
    },
    stop: () => clearInterval(timer),
  };
}
