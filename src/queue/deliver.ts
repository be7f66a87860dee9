// Delivers one queued message to SES. Recipients go out in chunks of at most 50; before each
// chunk the worker waits out any global throttle back-off, reserves the chunk in the 24-hour
// quota and waits for the pacer. Each chunk's SES MessageId is recorded before the next one is
// sent, so a retry (after an error, a crash or a timeout) resends only chunks with no record.
//
// Every SES error takes exactly one path, chosen by classifySesError:
//   permanent → the job fails now (UnrecoverableError) with the SES evidence;
//   transient → the job fails this attempt and BullMQ retries it with backoff;
//   throttled → every worker backs off briefly, this chunk is retried in place (no attempt used);
//   quota     → the job is delayed (no attempt used) and retried later;
//   paused    → the queue is paused globally and the job delayed until the probe resumes it.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { chunkRecipients } from '../ses/chunks.js';
import { classifySesError, sesErrorFacts, type SesErrorClass } from '../ses/classify.js';
import { sendRaw } from '../ses/send.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { TraceStore } from '../trace/trace-store.js';
import type { ByteBudget } from './byte-budget.js';
import type { SendingHolds } from './holds.js';
import { DROPPED_CHUNK, type SendJobData, type SendJobResult } from './job.js';
import type { DailyQuota } from './quota.js';

/** First throttle back-off; doubles per consecutive throttle answer, up to the cap. */
const THROTTLE_BACKOFF_MS = 1000;
const THROTTLE_BACKOFF_MAX_MS = 30_000;
/** Throttle answers retried inside one job run before the job is delayed instead. */
const THROTTLE_RETRIES_IN_PLACE = 5;
/** AWS: after a daily-quota refusal, "wait … up to 10 minutes, and then retry". */
export const QUOTA_REFUSAL_DELAY_MS = 10 * 60_000;

export interface SuppressionLookup {
  checkMany(addresses: string[]): Promise<unknown[]>;
}

export interface PacerLike {
  acquire(recipients: number, signal?: AbortSignal): Promise<void>;
}

export interface SesCallObserver {
  (outcome: SesErrorClass | 'sent', durationMs: number, recipients: number): void;
}

export interface DeliverDeps {
  redis: Redis;
  keys: Keys;
  ses: SESv2Client;
  logger: Logger;
  pacer: PacerLike | undefined;
  quota: DailyQuota;
  /** Current Max24HourSend (Infinity when unknown or unlimited). */
  quotaLimit(): number;
  holds: SendingHolds;
  /** How long a paused queue waits before a job is tried again. */
  pauseProbeMs: number;
  maxAgeMs: number;
  chunkRecordTtlMs: number;
  observe?: SesCallObserver;
  trace?: TraceStore;
  /** Per SMTP user: a share of the send rate and a daily recipient cap (users file policy). */
  userLimits?: {
    pacer(user: string, ratePerSecond: number): PacerLike;
    quota(user: string): DailyQuota;
  };
  /** Checked again at send time: an address may have been suppressed after the message was queued. */
  suppression?: SuppressionLookup;
  onSuppressed?(count: number): void;
  /** Bounds the message bytes held at once by this worker process. */
  budget?: ByteBudget;
}

export class SendFailure extends Error {
  constructor(
    readonly errorClass: SesErrorClass,
    message: string,
  ) {
    super(message);
  }
}

export function createDeliverer(deps: DeliverDeps) {
  const { redis, keys, logger } = deps;
  let throttleStreak = 0;

  async function delay(
    job: Job<SendJobData>,
    token: string | undefined,
    ms: number,
    why: string,
  ): Promise<never> {
    // Never hold a message past its queue lifetime: it is picked up then and fails as expired.
    const until = Math.min(Date.now() + ms, job.data.receivedAt + deps.maxAgeMs + 1000);
    await job.moveToDelayed(until, token);
    logger.warn({ queueId: job.data.queueId, until: new Date(until).toISOString(), why }, 'queue.delayed');
    throw new DelayedError(why);
  }

  function trace(queueId: string, event: Parameters<TraceStore['record']>[1]): void {
    deps.trace
      ?.record(queueId, event)
      .catch((err: Error) => logger.warn({ queueId, err: err.message }, 'trace.write_failed'));
  }

  async function sendChunk(
    data: SendJobData,
    raw: Buffer,
    recipients: string[],
    chunk: number,
  ): Promise<string> {
    const startedAt = performance.now();
    try {
      const id = await sendRaw(deps.ses, {
        from: data.from,
        recipients,
        raw,
        configurationSet: data.configurationSet,
        tags: data.tags,
        identityArn: data.identityArn,
      });
      deps.observe?.('sent', performance.now() - startedAt, recipients.length);
      trace(data.queueId, {
        type: 'ses-call',
        at: Date.now(),
        outcome: 'sent',
        sesMessageId: id,
        recipients: recipients.length,
        chunk,
      });
      return id;
    } catch (err) {
      const facts = sesErrorFacts(err);
      const errorClass = classifySesError(facts);
      deps.observe?.(errorClass, performance.now() - startedAt, recipients.length);
      const evidence = `${facts.name}${facts.httpStatus ? ` (HTTP ${facts.httpStatus})` : ''}: ${facts.message}`;
      trace(data.queueId, {
        type: 'ses-call',
        at: Date.now(),
        outcome: errorClass,
        recipients: recipients.length,
        chunk,
        error: evidence,
      });
      throw new SendFailure(errorClass, evidence);
    }
  }

  /** One chunk, through throttle waits, quota and pacing; returns its SES MessageId. */
  async function deliverChunk(
    job: Job<SendJobData>,
    token: string | undefined,
    raw: Buffer,
    recipients: string[],
    chunk: number,
  ) {
    for (let throttled = 0; ; throttled++) {
      const backoff = await deps.holds.throttleRemainingMs();
      if (backoff > 0) await new Promise((resolve) => setTimeout(resolve, backoff));
      const { user, userDailyCap, userRateShare } = job.data;
      if (user && userDailyCap !== undefined && deps.userLimits) {
        const own = await deps.userLimits.quota(user).reserve(recipients.length, userDailyCap);
        if (!own.admitted) await delay(job, token, own.waitMs, `daily cap of SMTP user ${user} reached`);
      }
      const reserved = await deps.quota.reserve(recipients.length, deps.quotaLimit());
      if (!reserved.admitted) {
        if (user && userDailyCap !== undefined) await deps.userLimits?.quota(user).release(recipients.length);
        await delay(job, token, reserved.waitMs, '24-hour quota reached');
      }
      if (user && userRateShare !== undefined)
        await deps.userLimits?.pacer(user, userRateShare).acquire(recipients.length);
      await deps.pacer?.acquire(recipients.length);
      try {
        const id = await sendChunk(job.data, raw, recipients, chunk);
        throttleStreak = 0;
        return id;
      } catch (err) {
        await deps.quota.release(recipients.length).catch(() => undefined);
        if (!(err instanceof SendFailure)) throw err;
        await handleFailure(job, token, err, throttled);
      }
    }
  }

  async function handleFailure(
    job: Job<SendJobData>,
    token: string | undefined,
    err: SendFailure,
    throttled: number,
  ) {
    const log = logger.child({ queueId: job.data.queueId, messageId: job.data.messageId });
    const context = { errorClass: err.errorClass, error: err.message, attempt: job.attemptsMade + 1 };
    switch (err.errorClass) {
      case 'permanent':
        log.error(context, 'ses.rejected');
        throw new UnrecoverableError(`SES_PERMANENT: ${err.message}`);
      case 'transient':
        log.warn(context, 'ses.retry');
        throw new Error(`SES_TRANSIENT: ${err.message}`);
      case 'throttled': {
        throttleStreak++;
        const backoff = Math.min(
          THROTTLE_BACKOFF_MAX_MS,
          THROTTLE_BACKOFF_MS * 2 ** Math.min(throttleStreak - 1, 5),
        );
        await deps.holds.throttle(backoff * (0.75 + Math.random() * 0.5));
        log.warn({ ...context, backoffMs: backoff }, 'ses.throttled');
        if (throttled + 1 >= THROTTLE_RETRIES_IN_PLACE)
          await delay(job, token, backoff, 'throttled repeatedly');
        return;
      }
      case 'quota':
        log.warn(context, 'ses.quota_exceeded');
        return delay(job, token, QUOTA_REFUSAL_DELAY_MS, 'SES daily quota exceeded');
      case 'paused': {
        const first = await deps.holds.pause({ reason: err.message, by: 'ses' });
        if (first) log.error(context, 'ses.sending_paused');
        return delay(job, token, deps.pauseProbeMs, 'SES sending paused');
      }
    }
  }

  return async function deliver(
    job: Job<SendJobData, SendJobResult>,
    token?: string,
  ): Promise<SendJobResult> {
    const release = await deps.budget?.acquire(job.data.size);
    try {
      return await deliverHeld(job, token);
    } finally {
      release?.();
    }
  };

  async function deliverHeld(job: Job<SendJobData, SendJobResult>, token?: string): Promise<SendJobResult> {
    const data = job.data;
    const log = logger.child({ queueId: data.queueId, messageId: data.messageId });
    if (Date.now() - data.receivedAt > deps.maxAgeMs) {
      log.error({ ageMs: Date.now() - data.receivedAt }, 'queue.expired');
      throw new UnrecoverableError(
        `QUEUE_LIFETIME_EXCEEDED: not delivered within ${Math.round(deps.maxAgeMs / 3_600_000)} h`,
      );
    }
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
    const suppressed: string[] = [];
    // Chunks are cut from the queued envelope, never from the filtered one, so that a retry sees
    // the same chunk boundaries as the attempt that recorded them.
    for (const [index, chunk] of chunks.entries()) {
      const already = recorded[String(index)];
      if (already !== undefined) {
        if (already !== DROPPED_CHUNK) sesMessageIds.push(already);
        continue;
      }
      const hits = deps.suppression ? await deps.suppression.checkMany(chunk) : [];
      const recipients = chunk.filter((_, i) => !hits[i]);
      if (recipients.length < chunk.length) {
        suppressed.push(...chunk.filter((_, i) => hits[i]));
        deps.onSuppressed?.(chunk.length - recipients.length);
        log.info({ chunk: index, suppressed: chunk.length - recipients.length }, 'ses.recipients_suppressed');
      }
      if (recipients.length === 0) {
        await redis.hset(keys.sentChunks(data.queueId), String(index), DROPPED_CHUNK);
        continue;
      }
      const sesMessageId = await deliverChunk(job, token, raw, recipients, index);
      // Recorded before the next chunk: this write is what keeps a retry from sending it twice.
      await redis
        .multi()
        .hset(keys.sentChunks(data.queueId), String(index), sesMessageId)
        .pexpire(keys.sentChunks(data.queueId), deps.chunkRecordTtlMs)
        .exec();
      sesMessageIds.push(sesMessageId);
      log.info({ sesMessageId, chunk: index, chunks: chunks.length, rcpt: recipients.length }, 'ses.sent');
    }
    if (sesMessageIds.length === 0) log.info({ suppressed: suppressed.length }, 'queue.dropped');
    return { sesMessageIds, suppressed };
  }
}
