// Whether Redis has room for more mail. Under `noeviction` a Redis at `maxmemory` refuses writes,
// the workers' included: they cannot take a job to send it (that is a write), so a Redis filled to
// the brim by intake never empties itself. Intake therefore stops taking mail at a high-water mark
// below `maxmemory` (REDIS_MEMORY_HIGH_WATER), answering `452 4.3.1` at MAIL FROM, and the workers
// drain the queue in the room left. Read from INFO memory of the master that holds the deployment's
// keys, once a second, so a MAIL FROM costs nothing more than a comparison.
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { parseInfo } from '../shared/redis-checks.js';
import { nodeOwning } from '../shared/redis-nodes.js';

/** How often the memory use is read. */
export const QUEUE_ROOM_CHECK_MS = 1000;

export interface QueueRoom {
  /** The last reading was at or above the high-water mark. */
  full(): boolean;
  stop(): void;
}

export interface QueueRoomOptions {
  redis: Redis;
  /** A key of the deployment: on a Cluster, its slot's master is the one read. */
  deploymentKey: string;
  /** Percent of `maxmemory`; 0 turns the check off. */
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
  if (highWaterPercent <= 0) return { full: () => false, stop: () => undefined };

  async function check(): Promise<void> {
    const node = nodeOwning(redis, options.deploymentKey);
    if (!node || node.status !== 'ready') return;
    const percent = memoryPercent(parseInfo(await node.info('memory')));
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
    full: () => isFull,
    stop: () => clearInterval(timer),
  };
}
