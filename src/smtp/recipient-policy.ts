// The suppression check at RCPT TO. `reject` answers 550 5.1.1 with the reason and date; `drop`
// accepts the recipient (for apps that abort a whole message on one refused recipient) and leaves
// it out of the queued envelope, with a log line and a counter. A Redis failure is a 451.
import type { Metrics } from '../metrics/metrics.js';
import { smtpError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SuppressionHit } from '../suppression/index.js';

export interface SuppressionChecker {
  checkMany(addresses: string[]): Promise<(SuppressionHit | null)[]>;
}

export interface RecipientPolicyOptions {
  suppression: SuppressionChecker;
  action: 'reject' | 'drop';
  logger: Logger;
  metrics: Metrics;
}

export type RecipientVerdict = 'accept' | 'drop';

const FAILURE_LOG_EVERY_MS = 10_000;

function day(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function createRecipientPolicy(options: RecipientPolicyOptions) {
  const { logger, metrics } = options;
  /** During an outage every RCPT fails the same way: one log line per LOG_EVERY_MS, not one per RCPT. */
  let lastFailureLogAt = 0;
  return async function checkRecipient(address: string, sessionId: string): Promise<RecipientVerdict> {
    let hit: SuppressionHit | null | undefined;
    try {
      [hit] = await options.suppression.checkMany([address]);
    } catch (err) {
      if (Date.now() - lastFailureLogAt > FAILURE_LOG_EVERY_MS) {
        lastFailureLogAt = Date.now();
        logger.error({ sid: sessionId, err: (err as Error).message }, 'smtp.suppression_check_failed');
      }
      metrics.messagesRefused.inc({ reason: 'queue' });
      throw smtpError('QUEUE_UNAVAILABLE', 'Temporary failure checking the recipient, try again later');
    }
    if (!hit) return 'accept';
    metrics.recipientsSuppressed.inc({ stage: 'rcpt' });
    if (options.action === 'drop') {
      logger.info({ sid: sessionId, rcpt: address, reason: hit.reason }, 'smtp.recipient_dropped');
      return 'drop';
    }
    logger.info({ sid: sessionId, rcpt: address, reason: hit.reason }, 'smtp.refused.suppressed');
    metrics.messagesRefused.inc({ reason: 'suppressed' });
    throw smtpError(
      'SMTP_RECIPIENT_SUPPRESSED',
      `<${address}>: recipient suppressed (${hit.reason}) since ${day(hit.since)}`,
    );
  };
}
