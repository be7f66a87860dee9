// Label values known in advance. A role sets each of its labelled counters to 0 for these when it
// starts, so the first event of a kind is an increase from 0 that rate() and increase() can see
// (a series that appears at 1 has no earlier sample to compare with).
import type { SesErrorClass } from '../ses/classify.js';
import { WEBHOOK_ERRORS } from '../webhook/errors.js';

/** Every outcome of an SES call (ses_calls_total); a Record so a new error class must be added here. */
const OUTCOMES: Record<SesErrorClass | 'sent', true> = {
  sent: true,
  throttled: true,
  quota: true,
  paused: true,
  permanent: true,
  transient: true,
};
export const SES_CALL_OUTCOMES = Object.keys(OUTCOMES);

/**
 * Reasons the SMTP role counts refusals under (messages_refused_total): session-handlers.ts,
 * intake.ts, recipient-policy.ts and proxy-front.ts in src/smtp.
 */
export const REFUSAL_REASONS = [
  'network',
  'connections',
  'tls',
  'auth',
  'parameter',
  'address',
  'sender',
  'recipients',
  'queue',
  'queue_full',
  'size',
  'content',
  'suppressed',
  'proxy',
] as const;

/** Where recipients are found suppressed (recipients_suppressed_total): at RCPT, or when sending. */
export const SUPPRESSION_STAGES = { smtp: 'rcpt', worker: 'send' } as const;

/**
 * The `code` of sns_notifications_total: the error code the webhook answered (its catalog, and
 * INTERNAL for a 500), `none` for a success. `result` alone (the status) cannot tell a forged
 * signature from a topic not listed: both are 403.
 */
export const SNS_ANSWER_CODES: readonly string[] = ['none', ...Object.keys(WEBHOOK_ERRORS), 'INTERNAL'];

/** The status each code is answered with, for starting its series at 0. */
export function snsAnswerStatus(code: string): number {
  if (code === 'none') return 200;
  return Object.hasOwn(WEBHOOK_ERRORS, code) ? WEBHOOK_ERRORS[code as keyof typeof WEBHOOK_ERRORS].http : 500;
}

/** The label for an answer's error code (undefined: a success); anything unknown is `other`. */
export function snsAnswerCode(code: string | undefined): string {
  if (code === undefined) return 'none';
  return SNS_ANSWER_CODES.includes(code) ? code : 'other';
}
