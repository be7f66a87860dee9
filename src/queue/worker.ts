// Delivers queued messages to SES. One job is one accepted message; it goes out as chunks of at
// most 50 recipients, and each chunk's SES MessageId is recorded before the next one is sent, so a
// retry (after an error, a crash or a timeout) resends only chunks with no recorded MessageId.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { chunkRecipients } from '../ses/chunks.js';
import { classifySesError, sesErrorFacts } from '../ses/classify.js';
import { sendRaw } from '../ses/send.js';
import type { Keys } from '../shared/keys.js';
import { OUTBOUND_QUEUE } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { SendJobData, SendJobResult } from './job.js';
import { RETRY_BACKOFF_TYPE, retryDelayMs, type RetryPolicy } from './retry.js';

export interface WorkerOptions {
  connection: Redis;
  redis: Redis;
  keys: Keys;
  ses: SESv2Client;
  logger: Logger;
  concurrency: number;
  retry: RetryPolicy;
  /** How long the bytes and chunk records of a finally failed message are kept. */
  failedRetentionMs: number;
}

export interface SendWorker {
  start(): Promise<void>;
  /** Waits for in-flight SES calls to finish, then stops. */
  stop(): Promise<void>;
}

export function createSendWorker(options: WorkerOptions): SendWorker {
  const { redis, keys, ses, logger } = options;

  async function deliver(job: Job<SendJobData, SendJobResult>): Promise<SendJobResult> {
    const data = job.data;
    const log = logger.child({ queueId: data.queueId, messageId: data.messageId });
    const raw = await redis.getBuffer(keys.raw(data.queueId));
    if (raw === null) {
      log.error('ses.raw_missing');
      throw new UnrecoverableError(
        'RAW_MESSAGE_MISSING: the stored message bytes are gone (expired or deleted)',
      );
    }
    const recorded = await redis.hgetall(keys.sentChunks(data.queueId));
    const chunks = chunkRecipients(data.recipients);
    const sesMessageIds: string[] = [];

    for (const [index, recipients] of chunks.entries()) {
      const already = recorded[String(index)];
      if (already !== undefined) {
        sesMessageIds.push(already);
        continue;
      }
      let sesMessageId: string;
      const startedAt = Date.now();
      try {
        sesMessageId = await sendRaw(ses, {
          from: data.from,
          recipients,
          raw,
          configurationSet: data.configurationSet,
          tags: data.tags,
        });
      } catch (err) {
        const facts = sesErrorFacts(err);
        const errorClass = classifySesError(facts);
        const evidence = `${facts.name}${facts.httpStatus ? ` (HTTP ${facts.httpStatus})` : ''}: ${facts.message}`;
        const context = {
          chunk: index,
          chunks: chunks.length,
          rcpt: recipients.length,
          errorClass,
          error: evidence,
        };
        if (errorClass === 'permanent') {
          log.error({ ...context, attempt: job.attemptsMade + 1 }, 'ses.rejected');
          throw new UnrecoverableError(`SES_PERMANENT: ${evidence}`);
        }
        log.warn({ ...context, attempt: job.attemptsMade + 1 }, 'ses.retry');
        throw new Error(`SES_TRANSIENT (${errorClass}): ${evidence}`, { cause: err });
      }
      // Recorded before the next chunk: this write is what keeps a retry from sending it twice.
      await redis
        .multi()
        .hset(keys.sentChunks(data.queueId), String(index), sesMessageId)
        .pexpire(keys.sentChunks(data.queueId), options.failedRetentionMs + options.retry.maxAgeMs)
        .exec();
      sesMessageIds.push(sesMessageId);
      log.info(
        {
          sesMessageId,
          chunk: index,
          chunks: chunks.length,
          rcpt: recipients.length,
          ms: Date.now() - startedAt,
        },
        'ses.sent',
      );
    }
    return { sesMessageIds };
  }

  const worker = new Worker<SendJobData, SendJobResult>(OUTBOUND_QUEUE, deliver, {
    connection: options.connection,
    prefix: keys.bullPrefix,
    concurrency: options.concurrency,
    autorun: false,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === RETRY_BACKOFF_TYPE ? retryDelayMs(attemptsMade, options.retry) : 0,
    },
  });

  worker.on('completed', (job) => {
    // Bytes are dropped once the message is out; the job record stays for the dashboard.
    redis.del(keys.raw(job.data.queueId), keys.sentChunks(job.data.queueId)).catch((err: Error) => {
      logger.warn({ queueId: job.data.queueId, err: err.message }, 'queue.cleanup_failed');
    });
  });

  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    logger.error(
      {
        queueId: job.data.queueId,
        messageId: job.data.messageId,
        attempts: job.attemptsMade,
        reason: err.message,
      },
      'queue.failed',
    );
    // Kept for inspection and a manual retry, then gone with the failed job itself.
    redis
      .multi()
      .pexpire(keys.raw(job.data.queueId), options.failedRetentionMs)
      .pexpire(keys.sentChunks(job.data.queueId), options.failedRetentionMs)
      .exec()
      .catch(() => undefined);
  });

  worker.on('error', (err) => logger.error({ err: err.message }, 'worker.error'));

  return {
    async start() {
      void worker.run().catch((err: Error) => logger.fatal({ err: err.message }, 'worker.crashed'));
      await worker.waitUntilReady();
    },
    async stop() {
      await worker.close();
    },
  };
}
