// Every Redis key and queue name the gateway uses, built in one place under REDIS_PREFIX so that
// two deployments can share one Redis without seeing each other's data.

export const OUTBOUND_QUEUE = 'outbound';

export interface Keys {
  /** BullMQ's own prefix; BullMQ adds `:<queue>:<...>`. */
  readonly bullPrefix: string;
  /** The message bytes of a queued message, kept outside the job JSON. */
  raw(queueId: string): string;
  /** A large message's bytes while they arrive; renamed to `raw` once the message is complete. */
  spool(queueId: string): string;
  /** Hash of chunk index → SES MessageId for the chunks already accepted by SES. */
  sentChunks(queueId: string): string;
  /** Hash of chunk index → SES evidence for the chunks SES refused for good (see chunk-records.ts). */
  refusedChunks(queueId: string): string;
  /** Set once a DSN went out for the message, for FAILED_JOB_RETENTION: no second one meanwhile. */
  dsnSent(queueId: string): string;
  /** Rolling 24-hour recipient count (one hash). */
  readonly dailyQuota: string;
  /** The global pacer's bookings (one key). */
  readonly pacer: string;
  /** Why sending is on hold (hash), while it is. */
  readonly sendingHold: string;
  /** Global back-off after a throttling answer (a hash: its end and length, see holds-scripts.ts). */
  readonly throttle: string;
  /** The reputation guard's last reading, its hold and an operator's acknowledgement (hash). */
  readonly reputation: string;
  /** Prefix of the failed-login counters, one key per client address (or IPv6 /64). */
  readonly authFailures: string;
  /** Per SMTP user: its share of the send rate and its daily cap. */
  userPacer(user: string): string;
  userQuota(user: string): string;
  /** Hash of username → its dailyCap and rateShare (JSON) as the smtp role last loaded the users file. */
  readonly userPolicy: string;
  /** The SES account as the workers last read it, with the pacing rate (JSON string). */
  readonly accountState: string;
}

export function createKeys(prefix: string): Keys {
  return {
    bullPrefix: prefix,
    raw: (queueId) => `${prefix}:raw:${queueId}`,
    sentChunks: (queueId) => `${prefix}:sent:${queueId}`,
    refusedChunks: (queueId) => `${prefix}:refused:${queueId}`,
    dsnSent: (queueId) => `${prefix}:dsn-sent:${queueId}`,
    spool: (queueId) => `${prefix}:spool:${queueId}`,
    dailyQuota: `${prefix}:quota:24h`,
    pacer: `${prefix}:pacer`,
    sendingHold: `${prefix}:hold`,
    throttle: `${prefix}:throttle`,
    reputation: `${prefix}:reputation`,
    accountState: `${prefix}:account`,
    authFailures: `${prefix}:auth-fail`,
    userPacer: (user) => `${prefix}:pacer:user:${encodeURIComponent(user)}`,
    userQuota: (user) => `${prefix}:quota:user:${encodeURIComponent(user)}`,
    userPolicy: `${prefix}:user-policy`,
  };
}
