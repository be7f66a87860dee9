// Every Redis key the feedback webhook writes, built in one place under REDIS_PREFIX. With a prefix
// in braces (e.g. "{ses-relay}") all keys share one cluster slot, which the commit script needs.

export interface FeedbackKeys {
  /** Set once an SNS message's effects are committed; its existence makes a redelivery a no-op. */
  done(snsMessageId: string): string;
  /**
   * Claims one soft-bounce count for one recipient of one SNS message, so a redelivery does not count
   * it twice. The recipient is named by its position: a signed message never changes, and no address
   * lands in a key (the store's privacy mode keeps addresses out of Redis).
   */
  softBounceClaim(snsMessageId: string, recipientIndex: number): string;
  /** Hash of counters for one UTC day, `day` as YYYY-MM-DD. */
  statsDay(day: string): string;
}

export function createFeedbackKeys(prefix: string): FeedbackKeys {
  return {
    done: (id) => `${prefix}:sns:done:${id}`,
    softBounceClaim: (id, index) => `${prefix}:sns:soft:${id}:${index}`,
    statsDay: (day) => `${prefix}:stats:day:${day}`,
  };
}
