// The operators' view of the gateway as one object: daily feedback figures, bounce and complaint
// rates, queue depths, SES quota use and pacing, the suppression list size and any hold. Pure: the
// reader (stats-reader.ts) gathers the inputs, these functions shape them, so both are testable apart.
import { z } from 'zod';
import type { HoldState } from '../queue/holds.js';
import type { ReputationReading } from '../queue/reputation-state.js';
import type { DailyStats } from '../webhook/stats.js';

/**
 * SES judges an account on its rates over recent sending; the webhook keeps 35 days of counters.
 * The reputation guard uses its own window (REPUTATION_WINDOW); its reading is shown beside these.
 */
export const RATE_WINDOW_DAYS = 30;
export const DEFAULT_STATS_DAYS = 14;
/** The daily counters live 35 days (webhook/stats.ts); more would only show empty days. */
export const MAX_STATS_DAYS = 35;

export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'failed',
  'completed',
  'waiting-children',
] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface DayFigures {
  day: string;
  sent: number;
  delivered: number;
  /** Every bounce SES reported for the day: permanent, transient and undetermined. */
  bounced: number;
  /** Permanent bounces only: what SES's bounce rate counts. */
  bouncedHard: number;
  complained: number;
}

export interface FeedbackRates {
  windowDays: number;
  sent: number;
  bouncedHard: number;
  complained: number;
  /** bouncedHard / sent; null when nothing was sent in the window. */
  bounceRate: number | null;
  /** complained / sent; null when nothing was sent in the window. */
  complaintRate: number | null;
}

export interface QueueFigures {
  paused: boolean;
  counts: Record<QueueState, number>;
  /** Age of the oldest job waiting to be picked up; null when none waits. */
  oldestWaitingAgeMs: number | null;
}

/** The worker's last reading of the SES account (keys.accountState), as published. */
export interface AccountReading {
  maxSendRate: number;
  /** null: unlimited. */
  max24HourSend: number | null;
  /** SES's own count at `readAt`; it includes sends by anything else on the account. */
  sentLast24Hours: number;
  sendingEnabled: boolean;
  productionAccess: boolean;
  enforcementStatus: string;
  readAt: number;
}

export interface QuotaFigures {
  /**
   * Recipients this deployment reserved or sent in the rolling 24 hours (its own quota ledger,
   * current): chunks waiting in the pacer are counted from their reservation, and given back if
   * they are not sent. SES's own count, which includes every sender on the account, is
   * `account.sentLast24Hours`.
   */
  sentLast24Hours: number;
  max24HourSend: number | null;
  /**
   * The larger of sentLast24Hours and SES's own count, over max24HourSend (what a reservation is
   * held to); null when unlimited or unknown.
   */
  used: number | null;
  /** Recipients still allowed in the window (by the same count); null when unlimited or unknown. */
  headroom: number | null;
  /** null until a worker has read the account (or its reading expired). */
  account: AccountReading | null;
}

export interface PacingFigures {
  /** Recipients per second the workers pace to; null when no worker has published one. */
  ratePerSecond: number | null;
  at: number | null;
}

export interface GatewayStats {
  at: number;
  days: DayFigures[];
  rates: FeedbackRates;
  queue: QueueFigures;
  quota: QuotaFigures;
  pacing: PacingFigures;
  suppressions: { count: number };
  hold: HoldState | null;
  /** The reputation guard's last check (its window, rates, thresholds, any acknowledgement); null when no worker published one. */
  reputation: ReputationReading | null;
}

const count = (counts: Record<string, number>, field: string): number => counts[field] ?? 0;

/**
 * Recipients sent that day: SES's own Send events when the configuration set publishes them, else
 * the gateway's own count of recipients SES accepted (`relayed`), so rates work with identity
 * notifications alone. The larger of the two, never their sum (they count the same recipients).
 */
export function sentOn(counts: Record<string, number>): number {
  return Math.max(count(counts, 'sent'), count(counts, 'relayed'));
}

export function dayFigures(stats: DailyStats): DayFigures {
  const { counts } = stats;
  const bouncedHard = count(counts, 'bounced_hard');
  return {
    day: stats.day,
    sent: sentOn(counts),
    delivered: count(counts, 'delivered'),
    bounced: bouncedHard + count(counts, 'bounced_soft') + count(counts, 'bounced_undetermined'),
    bouncedHard,
    complained: count(counts, 'complained'),
  };
}

export function feedbackRates(days: DailyStats[]): FeedbackRates {
  let sent = 0;
  let bouncedHard = 0;
  let complained = 0;
  for (const { counts } of days) {
    sent += sentOn(counts);
    bouncedHard += count(counts, 'bounced_hard');
    complained += count(counts, 'complained');
  }
  return {
    windowDays: days.length,
    sent,
    bouncedHard,
    complained,
    bounceRate: sent === 0 ? null : bouncedHard / sent,
    complaintRate: sent === 0 ? null : complained / sent,
  };
}

const snapshotSchema = z.object({
  account: z
    .object({
      maxSendRate: z.number(),
      // JSON has no Infinity: an unlimited quota is published as null.
      max24HourSend: z.number().nullable(),
      sentLast24Hours: z.number(),
      sendingEnabled: z.boolean(),
      productionAccess: z.boolean(),
      enforcementStatus: z.string(),
      readAt: z.number(),
    })
    .nullish(),
  ratePerSecond: z.number().nullish(),
  at: z.number().nullish(),
});

/** Reads the published snapshot defensively: another role writes it, maybe another version. */
export function parseAccountSnapshot(raw: string | null): {
  account: AccountReading | null;
  pacing: PacingFigures;
} {
  let value: unknown;
  try {
    value = raw === null ? undefined : JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) return { account: null, pacing: { ratePerSecond: null, at: null } };
  const { account, ratePerSecond, at } = parsed.data;
  return { account: account ?? null, pacing: { ratePerSecond: ratePerSecond ?? null, at: at ?? null } };
}

/** Use and headroom count the larger of the own ledger and SES's count, as the reservations do. */
export function quotaFigures(account: AccountReading | null, sentLast24Hours: number): QuotaFigures {
  const max = account?.max24HourSend ?? null;
  const counted = Math.max(sentLast24Hours, account?.sentLast24Hours ?? 0);
  return {
    sentLast24Hours,
    max24HourSend: max,
    used: max === null || max <= 0 ? null : counted / max,
    headroom: max === null ? null : Math.max(0, max - counted),
    account,
  };
}

export function oldestWaitingAge(oldestTimestamp: number | undefined, now: number): number | null {
  return oldestTimestamp === undefined ? null : Math.max(0, now - oldestTimestamp);
}
