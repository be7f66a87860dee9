// Shapes shared by the suppression store and its callers (SMTP policy, SES event handling, admin API).

export type SuppressionReason = 'bounce' | 'complaint' | 'manual' | 'imported';

export interface SuppressionDetails {
  reason: SuppressionReason;
  bounceType?: string;
  bounceSubType?: string;
  diagnosticCode?: string;
  sesMessageId?: string;
  feedbackId?: string;
  complaintFeedbackType?: string;
  /** epoch ms */
  expiresAt?: number;
  /** epoch ms of the event; default now */
  at?: number;
}

export interface SuppressionRecord extends SuppressionDetails {
  /** The normalised address, or its HMAC hex in privacy mode. */
  address: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

/** What the SMTP hot path learns about a suppressed address: enough for "suppressed (bounce) since …". */
export interface SuppressionHit {
  reason: SuppressionReason;
  /** epoch ms of the first event of the current suppression */
  since: number;
  /** epoch ms; absent when the suppression does not expire */
  expiresAt?: number;
}

export interface SoftBounceOptions {
  /** epoch ms of the bounce; default now */
  at?: number;
  /** The sliding window the bounces are counted in. */
  windowMs: number;
  /** Suppress when this many soft bounces fall inside the window. */
  limit: number;
  /** Let the resulting suppression expire after this long; default never. */
  suppressForMs?: number;
  /** Kept on the suppression record when the limit is reached. */
  details?: Pick<SuppressionDetails, 'bounceSubType' | 'diagnosticCode' | 'sesMessageId' | 'feedbackId'>;
}

export interface ListOptions {
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
  reason?: SuppressionReason;
  /** Only entries suppressed at or after this epoch ms (their `firstSeen`). */
  since?: number;
}

export interface ListPage {
  items: SuppressionRecord[];
  /** Undefined when the listing is complete. A page may hold fewer than `limit` items and still go on. */
  nextCursor: string | undefined;
}

export interface ImportRecord {
  address: string;
  details: SuppressionDetails;
}

export interface ImportResult {
  added: number;
  updated: number;
  invalid: number;
}
