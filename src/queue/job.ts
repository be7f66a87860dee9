// What a queued message looks like in BullMQ. The message bytes live in their own Redis key
// (keys.raw): a 20 KB body in job JSON costs ~25% of intake throughput, a 200 KB one 2.5x.
import type { EmailTag } from '../mail/prepare.js';

export const SEND_JOB_NAME = 'send';

export interface SendJobData {
  queueId: string;
  /** 'dsn' for a delivery status notification the gateway wrote itself (never answered by another). */
  kind?: 'message' | 'dsn';
  /** Envelope sender; '' is the null sender. */
  from: string;
  /** Envelope recipients (RCPT TO), in order, domains in punycode. */
  recipients: string[];
  /** Bytes of the prepared message. */
  size: number;
  /** The client's Message-ID, without angle brackets. */
  messageId: string;
  configurationSet?: string | undefined;
  tags: EmailTag[];
  clientIp: string;
  helo: string;
  receivedAt: number;
  /** When an operator last retried the failed message (`queue retry-failed`): its lifetime starts again. */
  retriedAt?: number | undefined;
  /** The authenticated SMTP user and the policy it carried when the message was accepted. */
  user?: string | undefined;
  identityArn?: string | undefined;
  userRateShare?: number | undefined;
  userDailyCap?: number | undefined;
}

export interface SendJobResult {
  /** SES MessageId of each chunk that was sent, in chunk order. */
  sesMessageIds: string[];
  /** Recipients left out at send time because they were suppressed after the message was queued. */
  suppressed: string[];
}

/** Marks a chunk whose recipients were all suppressed at send time (nothing was sent for it). */
export const DROPPED_CHUNK = '-';
