// End of DATA: read the message (bounded by the size limit), prepare it for SES and queue it. The
// reply to the client is decided here: 250 with the queue id once Redis holds the message, 552 for
// one too large (for the limit, for SES once prepared, or a header section over 1 MiB), 550 5.6.0
// for one SES would refuse for good (a line over 998 characters, a duplicated single field, no
// From), 451 when Redis cannot take it.
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { SES_MAX_MESSAGE_BYTES } from '../config/index.js';
import { findLongLine, messageProblem } from '../mail/message-check.js';
import { prepareMessage, type PreparedMessage, type PrepareOptions } from '../mail/prepare.js';
import { uniqueRecipients } from '../mail/recipients.js';
import { MAX_EMAIL_TAGS } from '../mail/tags.js';
import type { Redis } from 'ioredis';
import type { SmtpUser } from '../auth/index.js';
import { spoolData, type SpoolResult } from './data-spool.js';
import { contentError, headerTooBigError, tooBigForSesError } from './data-refusals.js';
import type { Producer } from '../queue/producer.js';
import type { SendJobData } from '../queue/job.js';
import { RelayError, smtpError } from '../shared/errors.js';
import { newQueueId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TraceStore } from '../trace/trace-store.js';
import { plainIp, senderAllowed } from './policy.js';
import { sesParameters, type SesParameters } from './ses-parameters.js';
import { printable, sessionUser } from './session-handlers.js';

export interface IntakeOptions {
  producer: Producer;
  hostname: string;
  /** SMTP_RECEIVED_HEADER: add the Received trace field (received.ts). */
  receivedHeader?: boolean;
  maxMessageBytes: number;
  /** SES_CONFIGURATION_SET: used when neither the user nor X-SES-CONFIGURATION-SET names one. */
  defaultConfigurationSet: string | undefined;
  logger: Logger;
  metrics: Metrics;
  trace: TraceStore;
  /** Where large messages are written while they arrive (see data-spool.ts). */
  spool: { redis: Redis; key(queueId: string): string; ttlMs: number };
}

/** What intake needs of a message, however it arrived. */
interface ArrivedMessage {
  meta: Omit<PreparedMessage, 'raw'>;
  /** Bytes of the prepared message. */
  size: number;
  /** The first over-long line of the prepared message (numbered there). */
  longLine: { line: number; length: number } | undefined;
  /** The prepared bytes of a message held in memory; undefined when they were spooled to Redis. */
  raw: Buffer | undefined;
}

/** The header section is parsed once: here, or for a spooled message while it arrived. */
function arrivedMessage(
  spooled: Extract<SpoolResult, { kind: 'memory' | 'spooled' }>,
  prepare: PrepareOptions,
): ArrivedMessage {
  if (spooled.kind === 'spooled') {
    return { meta: spooled.prepared, size: spooled.size, longLine: spooled.longLine, raw: undefined };
  }
  const prepared = prepareMessage(spooled.raw, prepare);
  return {
    meta: prepared,
    size: prepared.raw.length,
    longLine: findLongLine(prepared.raw),
    raw: prepared.raw,
  };
}

/** What the gateway left out or replaced of the message's X-SES-* headers. */
function logSesParameters(
  logger: Logger,
  context: { sid: string; queueId: string; user: string | undefined },
  meta: Pick<PreparedMessage, 'rejectedTags' | 'droppedIdentityHeaders'>,
  ses: SesParameters,
): void {
  const { rejectedTags, droppedIdentityHeaders } = meta;
  if (rejectedTags.length > 0) logger.warn({ ...context, dropped: rejectedTags }, 'smtp.tags_dropped');
  if (droppedIdentityHeaders.length > 0) {
    logger.warn({ ...context, dropped: droppedIdentityHeaders }, 'smtp.identity_headers_dropped');
  }
  if (ses.droppedTags.length > 0) {
    logger.warn({ ...context, dropped: ses.droppedTags, limit: MAX_EMAIL_TAGS }, 'smtp.tags_over_limit');
  }
  if (ses.overriddenSet !== undefined) {
    logger.info(
      { ...context, header: ses.overriddenSet, configurationSet: ses.configurationSet },
      'smtp.configuration_set_overridden',
    );
  }
}

/**
 * A user with allowedSenders may name only those as the message's author (From, Sender), as at
 * MAIL FROM: recipients see the From field, and SES authorizes the send by it. Returns the first
 * address outside the list, '' when the fields name no address at all, undefined when allowed.
 */
function notAllowedAuthor(
  meta: Pick<PreparedMessage, 'authors'>,
  user: SmtpUser | undefined,
): string | undefined {
  if (!user || user.allowedSenders.length === 0) return undefined;
  const authors = meta.authors();
  if (authors.length === 0) return '';
  return authors.find((address) => !senderAllowed(user.allowedSenders, address));
}

export function createIntake(options: IntakeOptions) {
  const { producer, logger, metrics } = options;

  return async function handleData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    dropped?: ReadonlySet<string>,
  ): Promise<string> {
    const queueId = newQueueId();
    const user = sessionUser(session);
    const prepare: PrepareOptions = {
      queueId,
      hostname: options.hostname,
      dropIdentityHeaders: user !== undefined,
      received: options.receivedHeader
        ? {
            helo: session.hostNameAppearsAs,
            clientIp: session.remoteAddress,
            protocol: session.transmissionType,
          }
        : undefined,
    };
    const spooled = await spoolData({
      stream,
      limitBytes: options.maxMessageBytes,
      redis: options.spool.redis,
      spoolKey: options.spool.key(queueId),
      ttlMs: options.spool.ttlMs,
      prepare,
    });
    if (spooled.kind === 'failed') {
      logger.error({ sid: session.id, queueId, err: spooled.error.message }, 'smtp.queue_failed');
      metrics.messagesRefused.inc({ reason: 'queue' });
      throw smtpError('QUEUE_UNAVAILABLE', 'Temporary failure: the queue is unavailable, try again later');
    }
    if (spooled.kind === 'aborted') {
      logger.info({ sid: session.id, queueId, bytes: spooled.bytes }, 'smtp.data_aborted');
      throw smtpError('QUEUE_UNAVAILABLE', 'The connection closed before the end of the message');
    }
    if (spooled.kind === 'oversized') {
      logger.info({ sid: session.id, bytes: spooled.bytes }, 'smtp.refused.size');
      metrics.messagesRefused.inc({ reason: 'size' });
      throw smtpError(
        'SMTP_MESSAGE_TOO_BIG',
        `Message exceeds the size limit of ${options.maxMessageBytes} bytes`,
      );
    }
    if (spooled.kind === 'header-too-big') {
      logger.info({ sid: session.id, bytes: spooled.bytes }, 'smtp.refused.header_size');
      metrics.messagesRefused.inc({ reason: 'size' });
      throw headerTooBigError();
    }
    const { meta, size, longLine, raw } = arrivedMessage(spooled, prepare);
    const discardSpool = () => {
      if (!raw) options.spool.redis.del(options.spool.key(queueId)).catch(() => undefined);
    };
    if (size > SES_MAX_MESSAGE_BYTES) {
      discardSpool();
      logger.info({ sid: session.id, bytes: size }, 'smtp.refused.size');
      metrics.messagesRefused.inc({ reason: 'size' });
      throw tooBigForSesError(size);
    }
    const problem = messageProblem({ ...meta, longLine });
    if (problem) {
      discardSpool();
      logger.info({ sid: session.id, problem }, 'smtp.refused.content');
      metrics.messagesRefused.inc({ reason: 'content' });
      throw contentError(problem);
    }
    const author = notAllowedAuthor(meta, user);
    if (author !== undefined) {
      discardSpool();
      logger.info(
        { sid: session.id, author: printable(author), user: user?.username },
        'smtp.refused.author',
      );
      metrics.messagesRefused.inc({ reason: 'sender' });
      throw smtpError(
        'SMTP_AUTHOR_NOT_ALLOWED',
        author === ''
          ? 'The From header field names no address this user may send as'
          : `<${printable(author)}>: From or Sender address not allowed for this user`,
      );
    }
    const recipients = uniqueRecipients(
      session.envelope.rcptTo.map((rcpt) => rcpt.address).filter((rcpt) => !dropped?.has(rcpt)),
    );
    if (recipients.length === 0) {
      discardSpool();
      // Every recipient is suppressed and SUPPRESSION_ACTION=drop: the app is told 250 and nothing is sent.
      logger.info({ sid: session.id, dropped: dropped?.size ?? 0 }, 'smtp.message_dropped');
      return '2.0.0 Ok: not queued, every recipient is suppressed';
    }
    const envelope = session.envelope;
    const ses = sesParameters(meta, user, options.defaultConfigurationSet);
    const data: SendJobData = {
      queueId,
      from: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
      recipients,
      size,
      messageId: meta.messageId,
      configurationSet: ses.configurationSet,
      tags: ses.tags,
      user: user?.username,
      identityArn: user?.fromEmailAddressIdentityArn,
      userRateShare: user?.rateShare,
      userDailyCap: user?.dailyCap,
      clientIp: plainIp(session.remoteAddress),
      helo: session.hostNameAppearsAs || '',
      receivedAt: Date.now(),
    };
    try {
      if (raw) await producer.enqueue(data, raw);
      else await producer.enqueueSpooled(data, options.spool.key(queueId));
    } catch (err) {
      logger.error({ sid: session.id, queueId, err: (err as Error).message }, 'smtp.queue_failed');
      metrics.messagesRefused.inc({ reason: 'queue' });
      if (err instanceof RelayError)
        throw smtpError(err.code, 'Temporary failure: the queue is unavailable, try again later');
      throw err;
    }
    logSesParameters(logger, { sid: session.id, queueId, user: user?.username }, meta, ses);
    metrics.messagesAccepted.inc();
    // Written after the 250 and not awaited: tracing must never slow or fail intake.
    options.trace
      .record(queueId, {
        type: 'accepted',
        at: data.receivedAt,
        clientIp: data.clientIp,
        from: data.from,
        recipients: data.recipients,
        size: data.size,
        messageId: data.messageId,
        user: data.user,
      })
      .catch((err: Error) => logger.warn({ queueId, err: err.message }, 'trace.write_failed'));
    logger.info(
      {
        sid: session.id,
        queueId,
        messageId: meta.messageId,
        from: data.from,
        rcpt: data.recipients.length,
        size: data.size,
        client: data.clientIp,
        user: data.user,
      },
      'smtp.accepted',
    );
    return `2.0.0 Ok: queued as ${queueId}`;
  };
}
