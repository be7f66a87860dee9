// Delivers one queued message to SES. Recipients go out in chunks of at most 50; before each
// chunk the worker waits out any global throttle back-off, reserves the chunk in the 24-hour
// quota (and the SMTP user's daily cap), waits for the pacer and checks once more, right before
// the call, that sending is not on hold and no back-off began meanwhile (send-gate.ts). Each
// chunk's outcome is recorded before the next one is tried (chunk-records.ts), so a retry (after an
// error, a crash, a shutdown, a hold or a timeout) resends no chunk SES accepted and retries none it
// refused for good.
//
// Every SES error takes exactly one path, chosen by classifySesError:
//   permanent → the chunk is recorded as refused and the other chunks go on; once every chunk is
//               settled the job fails (UnrecoverableError) with the SES evidence;
//   transient → the job fails this attempt and BullMQ retries it with backoff;
//   throttled → every worker backs off (doubling once per back-off period while SES goes on
//               throttling), this chunk is retried in place (no attempt used);
//   quota     → the job is delayed (no attempt used) and retried later; every worker's reservations
//               wait for as long, so a backlog does not spend one refused call per message;
//   paused    → the queue is paused globally and the job delayed until the probe resumes it.
// A reservation is given back whenever its chunk is not sent. When the worker stops, or sending is
// put on hold, waits for the pacer or a throttle back-off end at once and their jobs go back to the
// queue (no attempt used).
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { chunkRecipients } from '../ses/chunks.js';
import { errorMessage } from '../shared/errors.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { TraceStore } from '../trace/trace-store.js';
import type { ByteBudget } from './byte-budget.js';
import { createChunkRecords, refusalReason, type ChunkRefusal } from './chunk-records.js';
import { createChunkReservation } from './chunk-reservation.js';
import type { SendingHolds } from './holds.js';
import { DROPPED_CHUNK, type SendJobData, type SendJobResult } from './job.js';
import { lifetimeStart, readQueuedMessage } from './queued-message.js';
import type { DailyQuota } from './quota.js';
import { createSendGate, SendingHeld, type Cleared, type PacerLike } from './send-gate.js';
import { createSesCall, SendFailure, type SesCallObserver } from './ses-call.js';
import type { UserPolicies } from './user-policy.js';

export type { PacerLike } from './send-gate.js';
export { lifetimeText } from './queued-message.js';

/**
 * A job found sending on hold goes back to the queue for this long: the paused queue keeps it from
 * then on; should the queue not be paused (a pause half done), it is not taken again at once.
 */
const HELD_PUT_BACK_MS = 1000;
/** Throttle answers retried inside one job run before the job is delayed instead. */
const THROTTLE_RETRIES_IN_PLACE = 5;
/** A chunk record Redis refused is written again after this, doubling up to the maximum. */
const RECORD_RETRY_MIN_MS = 100;
const RECORD_RETRY_MAX_MS = 2000;
/** AWS: after a daily-quota refusal, "wait … up to 10 minutes, and then retry". */
export const QUOTA_REFUSAL_DELAY_MS = 10 * 60_000;

export interface SuppressionLookup {
  checkMany(addresses: string[]): Promise<unknown[]>;
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
  /** SentLast24Hours from the last GetAccount (sends by anything on the account); 0 when unknown. */
  sesSentLast24Hours?(): number;
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
    /** The policy as the smtp role last published it; without it, each job's copy from intake. */
    policy?: UserPolicies;
  };
  /** Checked again at send time: an address may have been suppressed after the message was queued. */
  suppression?: SuppressionLookup;
  onSuppressed?(count: number): void;
  /** Bounds the message bytes held at once by this worker process. */
  budget?: ByteBudget;
  /** Aborted when the worker stops: waits end and their jobs are put back (see putBack). */
  stopping?: AbortSignal;
  /** How long the probe after a throttle back-off is held if its worker dies mid-call. */
  probeLeaseMs?: number;
}

/** What became of one chunk: its SES MessageId, or SES's evidence for refusing it for good. */
type ChunkOutcome = { sesMessageId: string } | { refused: string };

export function createDeliverer(deps: DeliverDeps) {
  const { redis, keys, logger, stopping } = deps;
  const records = createChunkRecords(redis, keys, deps.chunkRecordTtlMs);
  const sendChunk = createSesCall(deps);
  const reserve = createChunkReservation({
    quota: deps.quota,
    quotaLimit: () => deps.quotaLimit(),
    sesSentLast24Hours: () => deps.sesSentLast24Hours?.() ?? 0,
    userQuota: deps.userLimits && ((user) => deps.userLimits!.quota(user)),
    userPolicy: deps.userLimits?.policy,
  });
  const gate = createSendGate({
    holds: deps.holds,
    logger,
    pacer: deps.pacer,
    userPacer: deps.userLimits && ((user, rate) => deps.userLimits!.pacer(user, rate)),
    userPolicy: deps.userLimits?.policy,
    stopping,
    probeLeaseMs: deps.probeLeaseMs,
  });

  async function delay(
    job: Job<SendJobData>,
    token: string | undefined,
    ms: number,
    why: string,
    context: Record<string, unknown> = {},
  ): Promise<never> {
    // Never hold a message past its queue lifetime: it is picked up then and fails as expired.
    const until = Math.min(Date.now() + ms, lifetimeStart(job.data) + deps.maxAgeMs + 1000);
    await job.moveToDelayed(until, token);
    logger.warn(
      { queueId: job.data.queueId, until: new Date(until).toISOString(), why, ...context },
      'queue.delayed',
    );
    throw new DelayedError(why);
  }

  /** Back to the queue (at once by default), no attempt used: another worker, or this one later, takes it. */
  async function putBack(
    job: Job<SendJobData>,
    token: string | undefined,
    why: string,
    afterMs = 0,
  ): Promise<never> {
    await job.moveToDelayed(Date.now() + afterMs, token);
    logger.info({ queueId: job.data.queueId, why }, 'queue.put_back');
    throw new DelayedError(why);
  }

  /** One chunk, through throttle waits, quota, pacing and the hold check. */
  async function deliverChunk(
    job: Job<SendJobData>,
    token: string | undefined,
    raw: Buffer,
    recipients: string[],
    chunk: number,
  ): Promise<ChunkOutcome> {
    for (let throttled = 0; ; throttled++) {
      await gate.beforeReserve();
      const reservation = await reserve(job.data, recipients.length);
      if (!reservation.admitted)
        return delay(job, token, reservation.waitMs, reservation.why, reservation.context);
      let cleared: Cleared | undefined;
      try {
        cleared = await gate.clearToSend(job.data, recipients.length);
        const sesMessageId = await sendChunk(job.data, raw, recipients, chunk);
        gate.sent(cleared);
        return { sesMessageId };
      } catch (err) {
        // A throttled answer starts the next back-off (handleFailure); any other ends a probe.
        if (cleared && !(err instanceof SendFailure && err.errorClass === 'throttled')) gate.failed(cleared);
        await reservation.giveBack();
        if (!(err instanceof SendFailure)) throw err;
        const refused = await handleFailure(job, token, err, throttled, chunk);
        if (refused !== undefined) return { refused };
      }
    }
  }

  /** Takes the failure's one path; returns the SES evidence when SES refused the chunk for good. */
  async function handleFailure(
    job: Job<SendJobData>,
    token: string | undefined,
    err: SendFailure,
    throttled: number,
    chunk: number,
  ): Promise<string | undefined> {
    const log = logger.child({ queueId: job.data.queueId, messageId: job.data.messageId });
    const context = { errorClass: err.errorClass, error: err.message, attempt: job.attemptsMade + 1 };
    switch (err.errorClass) {
      case 'permanent':
        log.error({ ...context, chunk }, 'ses.rejected');
        return err.message;
      case 'transient':
        log.warn(context, 'ses.retry');
        throw new Error(`SES_TRANSIENT: ${err.message}`);
      case 'throttled': {
        // Answers to calls made before the back-off began belong to it: only an answer after it
        // ended starts a new one, doubled, so a storm escalates once per period, not per answer.
        const backoff = await gate.throttled();
        log.warn(
          { ...context, backoffMs: backoff.backoffMs, backoffStarted: backoff.started },
          'ses.throttled',
        );
        if (throttled + 1 >= THROTTLE_RETRIES_IN_PLACE)
          await delay(job, token, backoff.remainingMs, 'throttled repeatedly');
        return undefined;
      }
      case 'quota':
        log.warn(context, 'ses.quota_exceeded');
        // Every worker's next reservation waits too: a backlog would otherwise spend one refused
        // call per message. Best effort: this job is delayed either way.
        await deps.quota.refusedBySes(QUOTA_REFUSAL_DELAY_MS).catch(() => undefined);
        return delay(job, token, QUOTA_REFUSAL_DELAY_MS, 'SES daily quota exceeded');
      case 'paused': {
        const first = await deps.holds.pause({ reason: err.message, by: 'ses' });
        if (first) log.error(context, 'ses.sending_paused');
        gate.wake({ reason: err.message, by: 'ses', since: Date.now() });
        return delay(job, token, deps.pauseProbeMs, 'SES sending paused');
      }
    }
  }

  /**
   * Records a chunk SES has accepted. A failed write (Redis out of memory, a failover) is written
   * again until it is stored: failing the attempt instead would have the retry find no record and
   * send the chunk again. Only a worker that stops gives up, and says which chunk a later run resends.
   */
  async function recordSentUntilStored(
    log: Logger,
    queueId: string,
    index: number,
    sesMessageId: string,
  ): Promise<void> {
    for (let failures = 0; ; failures++) {
      try {
        await records.recordSent(queueId, index, sesMessageId);
        if (failures > 0) log.info({ chunk: index, sesMessageId, failures }, 'ses.sent_recorded');
        return;
      } catch (err) {
        const context = { chunk: index, sesMessageId, err: errorMessage(err) };
        if (stopping?.aborted) {
          log.error(
            context,
            'ses.sent_unrecorded: the worker stopped before Redis took the record of a chunk SES accepted; the next run sends that chunk again',
          );
          throw err;
        }
        if (failures === 0) {
          log.error(
            context,
            'ses.record_failed: SES accepted the chunk but Redis refused its record; writing it again until Redis takes it (the chunk is not sent again)',
          );
        }
        await sleep(Math.min(RECORD_RETRY_MIN_MS * 2 ** failures, RECORD_RETRY_MAX_MS), undefined, {
          signal: stopping,
        }).catch(() => undefined);
      }
    }
  }

  /** A wait that ended because the worker is stopping (pacer, throttle back-off). */
  function stoppedWaiting(err: unknown): boolean {
    return stopping?.aborted === true && err instanceof Error && err.name === 'AbortError';
  }

  return async function deliver(
    job: Job<SendJobData, SendJobResult>,
    token?: string,
  ): Promise<SendJobResult> {
    const release = await deps.budget?.acquire(job.data.size);
    try {
      // A job taken after the stop began goes straight back.
      stopping?.throwIfAborted();
      return await deliverHeld(job, token);
    } catch (err) {
      if (stoppedWaiting(err)) await putBack(job, token, 'worker stopping');
      if (err instanceof SendingHeld) await putBack(job, token, err.message, HELD_PUT_BACK_MS);
      throw err;
    } finally {
      release?.();
    }
  };

  async function deliverHeld(job: Job<SendJobData, SendJobResult>, token?: string): Promise<SendJobResult> {
    const data = job.data;
    const log = logger.child({ queueId: data.queueId, messageId: data.messageId });
    const raw = await readQueuedMessage(redis, keys, data, deps.maxAgeMs, log);
    const settled = await records.read(data.queueId);
    const chunks = chunkRecipients(data.recipients);
    const sesMessageIds: string[] = [];
    const suppressed: string[] = [];
    const refusals: ChunkRefusal[] = [];
    // Chunks are cut from the queued envelope, never from the filtered one, so that a retry sees
    // the same chunk boundaries as the attempt that recorded them.
    for (const [index, chunk] of chunks.entries()) {
      const already = settled.sent[String(index)];
      if (already !== undefined) {
        if (already !== DROPPED_CHUNK) sesMessageIds.push(already);
        continue;
      }
      const refusedBefore = settled.refused[String(index)];
      if (refusedBefore !== undefined) {
        refusals.push({ index, error: refusedBefore });
        continue;
      }
      const recipients = await unsuppressed(log, chunk, index, suppressed);
      if (recipients.length === 0) {
        await records.recordDropped(data.queueId, index);
        continue;
      }
      const outcome = await deliverChunk(job, token, raw, recipients, index);
      // Recorded before the next chunk: this write is what keeps a retry from repeating it.
      if ('refused' in outcome) {
        await records.recordRefused(data.queueId, index, outcome.refused);
        refusals.push({ index, error: outcome.refused });
        continue;
      }
      await recordSentUntilStored(log, data.queueId, index, outcome.sesMessageId);
      sesMessageIds.push(outcome.sesMessageId);
      log.info(
        { sesMessageId: outcome.sesMessageId, chunk: index, chunks: chunks.length, rcpt: recipients.length },
        'ses.sent',
      );
    }
    if (refusals.length > 0) {
      log.error({ refusedChunks: refusals.map((r) => r.index), chunks: chunks.length }, 'ses.chunks_refused');
      throw new UnrecoverableError(refusalReason(refusals, chunks.length));
    }
    if (sesMessageIds.length === 0) log.info({ suppressed: suppressed.length }, 'queue.dropped');
    return { sesMessageIds, suppressed };
  }

  /** The chunk without the addresses suppressed since the message was queued (added to `suppressed`). */
  async function unsuppressed(
    log: Logger,
    chunk: string[],
    index: number,
    suppressed: string[],
  ): Promise<string[]> {
    const hits = deps.suppression ? await deps.suppression.checkMany(chunk) : [];
    const recipients = chunk.filter((_, i) => !hits[i]);
    if (recipients.length < chunk.length) {
      suppressed.push(...chunk.filter((_, i) => hits[i]));
      deps.onSuppressed?.(chunk.length - recipients.length);
      log.info({ chunk: index, suppressed: chunk.length - recipients.length }, 'ses.recipients_suppressed');
    }
    return recipients;
  }
}
