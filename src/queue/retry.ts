// Retry timing for transient SES failures: exponential from a base, capped, with jitter so that a
// burst of failures does not come back as a burst of retries.

export const RETRY_BACKOFF_TYPE = 'ses-relay';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** The longest a message may wait in the queue. */
  maxAgeMs: number;
}

/** Delay before attempt `attemptsMade + 1`: base·2^(n-1), capped, then scaled into [50%, 100%]. */
export function retryDelayMs(
  attemptsMade: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attemptsMade - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/**
 * Attempts that keep a message retrying through its whole queue lifetime, counting every delay at
 * its shortest (jitter at 50 %): a transient failure (an SES outage, expired credentials) then ends
 * the message only at QUEUE_MAX_AGE, as an MTA's queue lifetime does. About 580 with the defaults.
 */
export function attemptsForLifetime(policy: Omit<RetryPolicy, 'attempts'>): number {
  let attempts = 1;
  for (let waited = 0; waited < policy.maxAgeMs; attempts++) {
    waited += retryDelayMs(attempts, { ...policy, attempts }, () => 0);
  }
  return attempts;
}

/** The retry policy of the configuration: SEND_MAX_ATTEMPTS when set, else the queue lifetime's. */
export function retryPolicyOf(config: {
  SEND_MAX_ATTEMPTS?: number | undefined;
  SEND_RETRY_BASE: number;
  SEND_RETRY_MAX: number;
  QUEUE_MAX_AGE: number;
}): RetryPolicy {
  const timing = {
    baseMs: config.SEND_RETRY_BASE,
    maxMs: config.SEND_RETRY_MAX,
    maxAgeMs: config.QUEUE_MAX_AGE,
  };
  return { ...timing, attempts: config.SEND_MAX_ATTEMPTS ?? attemptsForLifetime(timing) };
}
