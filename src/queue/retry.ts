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
