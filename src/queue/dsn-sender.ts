// Queues a delivery status notification for a message that failed after it was accepted. It goes
// through the same queue as any message, from DSN_FROM (a verified SES identity) to the envelope
// sender. Never for the null sender, never for a DSN (no loops), never to a suppressed address.
import { buildDsn, type DsnRecipient } from '../mail/dsn.js';
import { chunkRecipients } from '../ses/chunks.js';
import { newQueueId } from '../shared/ids.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from 'ioredis';
import { REFUSALS_ENDED_FIELD } from './chunk-records.js';
import type { SendJobData } from './job.js';
import type { Producer } from './producer.js';

/**
 * RFC 3463 status of a failed message: 4.4.7 when its queue lifetime ran out, 4.0.0 when transient
 * failures used up its attempts (nothing said the message itself was wrong), else 5.0.0.
 */
export function dsnStatus(reason: string): string {
  if (reason.startsWith('QUEUE_LIFETIME_EXCEEDED')) return '4.4.7';
  return reason.startsWith('SES_TRANSIENT') ? '4.0.0' : '5.0.0';
}

export interface DsnSender {
  send(failed: SendJobData, reason: string): Promise<boolean>;
}

export interface DsnSenderOptions {
  from: string;
  hostname: string;
  producer: Producer;
  redis: Redis;
  keys: Keys;
  logger: Logger;
  /** Whether an address is on the suppression list (no DSN to a suppressed sender). */
  isSuppressed?(address: string): Promise<boolean>;
}

/** Why no DSN is sent, or undefined when one should be. */
export function dsnSkipReason(failed: SendJobData, dsnFrom: string): string | undefined {
  if (failed.kind === 'dsn') return 'the failed message is itself a DSN';
  if (failed.from === '') return 'null sender';
  if (failed.from.toLowerCase() === dsnFrom.toLowerCase()) return 'sender is DSN_FROM';
  return undefined;
}

/**
 * The recipients whose chunk SES never accepted (delivered and dropped chunks are left out). Those of
 * a chunk SES refused for good carry that refusal; the others take the job's failure reason. The
 * refusals are read whether or not the worker already marked them ended: they are this failure's.
 */
async function unsentRecipients(options: DsnSenderOptions, failed: SendJobData): Promise<DsnRecipient[]> {
  const [sent, refused] = await Promise.all([
    options.redis.hgetall(options.keys.sentChunks(failed.queueId)),
    options.redis.hgetall(options.keys.refusedChunks(failed.queueId)),
  ]);
  // The mark of the job's end (a time), not a chunk's refusal.
  delete refused[REFUSALS_ENDED_FIELD];
  return chunkRecipients(failed.recipients).flatMap((chunk, index) => {
    if (sent[String(index)] !== undefined) return [];
    const refusal = refused[String(index)];
    if (refusal === undefined) return chunk.map((address) => ({ address }));
    const diagnostic = `SES_PERMANENT: ${refusal}`;
    return chunk.map((address) => ({ address, diagnostic, status: dsnStatus(diagnostic) }));
  });
}

export function createDsnSender(options: DsnSenderOptions): DsnSender {
  const { logger } = options;
  return {
    async send(failed, reason) {
      const skip =
        dsnSkipReason(failed, options.from) ??
        ((await options.isSuppressed?.(failed.from)) ? 'sender is suppressed' : undefined);
      if (skip) {
        logger.info({ queueId: failed.queueId, skip }, 'dsn.skipped');
        return false;
      }
      const original = (await options.redis.getBuffer(options.keys.raw(failed.queueId))) ?? Buffer.alloc(0);
      const failedRecipients = await unsentRecipients(options, failed);
      if (failedRecipients.length === 0) return false;
      const queueId = newQueueId();
      const raw = buildDsn({
        reportingHost: options.hostname,
        from: options.from,
        to: failed.from,
        queueId: failed.queueId,
        arrivalDate: new Date(failed.receivedAt),
        failedRecipients,
        diagnostic: reason,
        status: dsnStatus(reason),
        original,
      });
      await options.producer.enqueue(
        {
          queueId,
          kind: 'dsn',
          from: options.from,
          recipients: [failed.from],
          size: raw.length,
          messageId: `${failed.queueId}.dsn@${options.hostname}`,
          tags: [],
          clientIp: '',
          helo: '',
          receivedAt: Date.now(),
        },
        raw,
      );
      logger.info({ queueId: failed.queueId, dsnQueueId: queueId, to: failed.from }, 'dsn.queued');
      return true;
    },
  };
}
