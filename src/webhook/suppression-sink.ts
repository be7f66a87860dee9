// The part of the suppression store (src/suppression/store.ts) that feedback needs, declared here
// so the webhook depends on three methods, not on the store's implementation. The store satisfies it
// structurally. Every method must be safe to repeat: SNS redelivers, and so do our own 503s. A
// RelayError that is not retryable (e.g. an address the store cannot hold) skips that one recipient.

import type { SuppressionDetails } from '../suppression/types.js';

export type { SuppressionDetails, SuppressionReason } from '../suppression/types.js';

export interface SoftBounceOptions {
  /** When the bounce happened (ms since the epoch). */
  at: number;
  windowMs: number;
  /** Soft bounces within the window at which the store suppresses the address. */
  limit: number;
  /** The suppression the limit leads to expires this long after the bounce that reached it. */
  suppressForMs?: number;
  /** Kept on the suppression record if this bounce reaches the limit. */
  details?: Pick<SuppressionDetails, 'bounceSubType' | 'diagnosticCode' | 'sesMessageId' | 'feedbackId'>;
}

export interface SuppressionSink {
  /** An upsert: suppressing an address twice leaves one entry; the same event (feedback id) counts once. */
  suppress(address: string, details: SuppressionDetails): Promise<unknown>;
  /** Not idempotent by itself; the webhook guards each (SNS message, address) pair. */
  recordSoftBounce(address: string, opts: SoftBounceOptions): Promise<{ count: number; suppressed: boolean }>;
  /** Forgets the soft bounces up to `before` (all when not given). */
  resetSoftBounces(address: string, before?: number): Promise<unknown>;
}
