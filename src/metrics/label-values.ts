// Label values known in advance. A role sets each of its labelled counters to 0 for these when it
// starts, so the first event of a kind is an increase from 0 that rate() and increase() can see
// (a series that appears at 1 has no earlier sample to compare with).
import type { SesErrorClass } from '../ses/classify.js';

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
  'size',
  'content',
  'suppressed',
  'proxy',
] as const;

/** Where recipients are found suppressed (recipients_suppressed_total): at RCPT, or when sending. */
export const SUPPRESSION_STAGES = { smtp: 'rcpt', worker: 'send' } as const;
