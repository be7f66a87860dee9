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
  const shortest = (attempt: number) => retryDelayMs(attempt, { ...policy, attempts: attempt }, () => 0);
  let attempts = 1;
  let waited = 0;
  // Delays double until they reach the cap (a few dozen steps at most) ...
  while (waited < policy.maxAgeMs && shortest(attempts) < shortest(attempts + 1)) {
    waited += shortest(attempts);
    attempts++;
  }
  if (waited >= policy.maxAgeMs) return attempts;
  // ... and then stay at it, so the rest is a division, not one step per attempt: with a cap of
  // milliseconds and a lifetime of days, the loop would take seconds.
  const capped = Math.max(1, shortest(attempts));
  return attempts + Math.ceil((policy.maxAgeMs - waited) / capped);
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
