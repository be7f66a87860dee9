// Reading a queued message back for delivery: its bytes, unless it outlived its queue lifetime (it
// then fails like an MTA's queue lifetime) or its bytes are gone.
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { SendJobData } from './job.js';

const LIFETIME_UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
];

/** QUEUE_MAX_AGE in the largest unit it is a whole number of: "3 d", "36 h", "30 min", "1500 ms". */
export function lifetimeText(ms: number): string {
  const unit = LIFETIME_UNITS.find(([, size]) => ms >= size && ms % size === 0);
  return unit ? `${ms / unit[1]} ${unit[0]}` : `${ms} ms`;
}

/** The message bytes, unless the message outlived its queue lifetime or its bytes are gone. */
export async function readQueuedMessage(
  redis: Redis,
  keys: Keys,
  data: SendJobData,
  maxAgeMs: number,
  log: Logger,
): Promise<Buffer> {
  if (Date.now() - data.receivedAt > maxAgeMs) {
    log.error({ ageMs: Date.now() - data.receivedAt }, 'queue.expired');
    throw new UnrecoverableError(`QUEUE_LIFETIME_EXCEEDED: not delivered within ${lifetimeText(maxAgeMs)}`);
  }
  const raw = await redis.getBuffer(keys.raw(data.queueId));
  if (raw === null) {
    log.error('ses.raw_missing');
    throw new UnrecoverableError(
      'RAW_MESSAGE_MISSING: the stored message bytes are gone (expired or deleted)',
    );
  }
  return raw;
}
