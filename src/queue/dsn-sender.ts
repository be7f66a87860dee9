// Queues a delivery status notification for a message that failed after it was accepted. It goes
// through the same queue as any message, from DSN_FROM (a verified SES identity) to the envelope
// sender. Never for the null sender, never for a DSN (no loops), never to a suppressed address, and at
// most once per message while its failure is kept (an operator's retry that fails again sends none).
import { buildDsn, type DsnRecipient } from '../mail/dsn.js';
import { MAX_HEADER_SECTION_BYTES } from '../mail/header-end.js';
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
  /**
   * SES_CONFIGURATION_SET: a DSN bypasses intake, where the default is applied; without it, a DSN
   * that bounces or draws a complaint would never come back to the suppression list or the guard.
   */
  configurationSet?: string | undefined;
  hostname: string;
  producer: Producer;
  redis: Redis;
  keys: Keys;
  logger: Logger;
  /** Whether an address is on the suppression list (no DSN to a suppressed sender). */
  isSuppressed?(address: string): Promise<boolean>;
  /**
   * FAILED_JOB_RETENTION: after a message's DSN, none for the same message for this long. Each
   * manual retry of a failed job that fails again would otherwise tell the sender once more.
   */
  onceWithinMs: number;
}

/**
 * Why no DSN is sent, or undefined when one should be. A message whose bytes were gone when its job
 * ran gets none: delivery deletes the bytes together with the record of which chunks SES accepted,
 * so the gateway cannot tell delivered recipients from failed ones, and claiming they all failed is
 * wrong whenever the job had in fact completed (a completed job retried from the dashboard). Mail
 * not yet delivered does not lose its bytes this way: they are kept for QUEUE_MAX_AGE +
 * FAILED_JOB_RETENTION, so a message that old fails as QUEUE_LIFETIME_EXCEEDED first, and a failed
 * job's bytes last as long as the job, whose sender had a DSN when it failed.
 */
export function dsnSkipReason(failed: SendJobData, dsnFrom: string, reason: string): string | undefined {
  if (failed.kind === 'dsn') return 'the failed message is itself a DSN';
  if (failed.from === '') return 'null sender';
  if (failed.from.toLowerCase() === dsnFrom.toLowerCase()) return 'sender is DSN_FROM';
  if (reason.startsWith('RAW_MESSAGE_MISSING'))
    return 'message bytes gone: which recipients got it is unknown';
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

/** Room for the Date and Message-ID fields intake may add to a header section at its limit. */
const QUOTED_SLACK_BYTES = 4096;

export function createDsnSender(options: DsnSenderOptions): DsnSender {
  const { logger } = options;
  return {
    async send(failed, reason) {
      const skip =
        dsnSkipReason(failed, options.from, reason) ??
        ((await options.isSuppressed?.(failed.from)) ? 'sender is suppressed' : undefined);
      if (skip) {
        logger.info({ queueId: failed.queueId, skip }, 'dsn.skipped');
        return false;
      }
      // Only the header section is quoted: read no more than intake lets it be (plus the fields it
      // adds), not a body of up to 40 MB.
      const original = await options.redis.getrangeBuffer(
        options.keys.raw(failed.queueId),
        0,
        MAX_HEADER_SECTION_BYTES + QUOTED_SLACK_BYTES - 1,
      );
      const failedRecipients = await unsentRecipients(options, failed);
      if (failedRecipients.length === 0) return false;
      const once = options.keys.dsnSent(failed.queueId);
      const first = await options.redis.set(once, String(Date.now()), 'PX', options.onceWithinMs, 'NX');
      if (first === null) {
        logger.info(
          { queueId: failed.queueId, skip: 'a DSN for this message was already sent' },
          'dsn.skipped',
        );
        return false;
      }
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
      const data: SendJobData = {
        queueId,
        kind: 'dsn',
        from: options.from,
        recipients: [failed.from],
        size: raw.length,
        messageId: `${failed.queueId}.dsn@${options.hostname}`,
        configurationSet: options.configurationSet,
        tags: [],
        clientIp: '',
        helo: '',
        receivedAt: Date.now(),
      };
      try {
        await options.producer.enqueue(data, raw);
      } catch (err) {
        // Not queued after all: the next failure of this message may try again.
        await options.redis.del(once).catch(() => undefined);
        throw err;
      }
      logger.info({ queueId: failed.queueId, dsnQueueId: queueId, to: failed.from }, 'dsn.queued');
      return true;
    },
  };
}
