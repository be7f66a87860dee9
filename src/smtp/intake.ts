// End of DATA: read the message (bounded by the size limit), prepare it for SES and queue it. The
// reply to the client is decided here: 250 with the queue id once Redis holds the message, 552 for
// an oversized one, 550 5.6.0 for one SES would refuse for good (a line over 998 characters, no
// From), 451 when Redis cannot take it.
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { findLongLine, MAX_LINE_CHARS, type MessageProblem } from '../mail/message-check.js';
import { prepareMessage, type PreparedMessage, type PrepareOptions } from '../mail/prepare.js';
import type { Redis } from 'ioredis';
import { spoolData, type SpoolResult } from './data-spool.js';
import type { Producer } from '../queue/producer.js';
import type { SendJobData } from '../queue/job.js';
import { RelayError, smtpError } from '../shared/errors.js';
import { newQueueId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TraceStore } from '../trace/trace-store.js';
import { plainIp } from './policy.js';
import { sessionUser } from './session-handlers.js';
import type { EmailTag } from '../mail/prepare.js';

/** SES tag values allow ASCII letters, digits, '_' and '-'. */
function userTag(username: string): EmailTag {
  return { Name: 'smtp-user', Value: username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_' };
}

/** Tags from the message headers win over the user's defaults of the same name. */
function mergeTags(...lists: EmailTag[][]): EmailTag[] {
  const byName = new Map<string, EmailTag>();
  for (const list of lists) for (const tag of list) byName.set(tag.Name, tag);
  return [...byName.values()];
}

export interface IntakeOptions {
  producer: Producer;
  hostname: string;
  maxMessageBytes: number;
  /** SES_CONFIGURATION_SET: used when the message names none in X-SES-CONFIGURATION-SET. */
  defaultConfigurationSet: string | undefined;
  logger: Logger;
  metrics: Metrics;
  trace: TraceStore;
  /** Where large messages are written while they arrive (see data-spool.ts). */
  spool: { redis: Redis; key(queueId: string): string; ttlMs: number };
}

/** The 550 for a message SES would refuse: said now, not as a bounce after the 250. */
function contentError(problem: MessageProblem): RelayError {
  switch (problem.kind) {
    case 'line-too-long':
      return smtpError(
        'SMTP_LINE_TOO_LONG',
        `Line ${problem.line} of the message is ${problem.length} characters long; the limit is ${MAX_LINE_CHARS} (RFC 5322)`,
      );
    case 'no-from':
      return smtpError(
        'SMTP_FROM_MISSING',
        'Message has no From header field (RFC 5322, and SES requires it)',
      );
  }
}

/** What intake needs of a message, however it arrived. */
interface ArrivedMessage {
  meta: Omit<PreparedMessage, 'raw'>;
  size: number;
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
    longLine: findLongLine(spooled.raw),
    raw: prepared.raw,
  };
}

export function createIntake(options: IntakeOptions) {
  const { producer, logger, metrics } = options;

  return async function handleData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    dropped?: ReadonlySet<string>,
  ): Promise<string> {
    const queueId = newQueueId();
    const spooled = await spoolData({
      stream,
      limitBytes: options.maxMessageBytes,
      redis: options.spool.redis,
      spoolKey: options.spool.key(queueId),
      ttlMs: options.spool.ttlMs,
      queueId,
      hostname: options.hostname,
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
    const { meta, size, longLine, raw } = arrivedMessage(spooled, { queueId, hostname: options.hostname });
    const discardSpool = () => {
      if (!raw) options.spool.redis.del(options.spool.key(queueId)).catch(() => undefined);
    };
    const problem: MessageProblem | undefined = longLine
      ? { kind: 'line-too-long', ...longLine }
      : meta.hasFrom
        ? undefined
        : { kind: 'no-from' };
    if (problem) {
      discardSpool();
      logger.info({ sid: session.id, problem }, 'smtp.refused.content');
      metrics.messagesRefused.inc({ reason: 'content' });
      throw contentError(problem);
    }
    const recipients = session.envelope.rcptTo
      .map((rcpt) => rcpt.address)
      .filter((rcpt) => !dropped?.has(rcpt));
    if (recipients.length === 0) {
      discardSpool();
      // Every recipient is suppressed and SUPPRESSION_ACTION=drop: the app is told 250 and nothing is sent.
      logger.info({ sid: session.id, dropped: dropped?.size ?? 0 }, 'smtp.message_dropped');
      return '2.0.0 Ok: not queued, every recipient is suppressed';
    }
    const envelope = session.envelope;
    const user = sessionUser(session);
    const data: SendJobData = {
      queueId,
      from: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
      recipients,
      size,
      messageId: meta.messageId,
      configurationSet: meta.configurationSet ?? user?.configurationSet ?? options.defaultConfigurationSet,
      tags: user ? mergeTags([userTag(user.username)], user.tags, meta.tags) : meta.tags,
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
    if (meta.rejectedTags.length > 0) {
      logger.warn({ sid: session.id, queueId, dropped: meta.rejectedTags }, 'smtp.tags_dropped');
    }
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
