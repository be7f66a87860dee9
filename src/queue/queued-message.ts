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

/**
 * How long a message's stored bytes (and its record of the chunks SES took) may live: the longest it
 * can wait in the queue, then its failed job's retention. Set at intake and again by a retry.
 */
export function storedBytesTtlMs(config: { QUEUE_MAX_AGE: number; FAILED_JOB_RETENTION: number }): number {
  return config.QUEUE_MAX_AGE + config.FAILED_JOB_RETENTION;
}

/**
 * Where a message's queue lifetime (QUEUE_MAX_AGE) starts: its acceptance, or the operator's retry
 * that put it back after it failed (often for having outlived it, the cause since fixed).
 */
export function lifetimeStart(data: SendJobData): number {
  return data.retriedAt ?? data.receivedAt;
}

/** The message bytes, unless the message outlived its queue lifetime or its bytes are gone. */
export async function readQueuedMessage(
  redis: Redis,
  keys: Keys,
  data: SendJobData,
  maxAgeMs: number,
  log: Logger,
): Promise<Buffer> {
  if (Date.now() - lifetimeStart(data) > maxAgeMs) {
    log.error({ ageMs: Date.now() - lifetimeStart(data) }, 'queue.expired');
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
