// Daily feedback counters: one Redis hash per UTC day, counted in recipients (as SES counts
// quotas and rates), kept 35 days so a 30-day bounce or complaint rate can always be computed.
// Written only by the feedback ledger's commit; read here.
import type { Redis } from 'ioredis';
import type { FeedbackKeys } from './keys.js';

/** 30 days of figures plus slack for late events and a reader that runs a few days late. */
export const STATS_TTL_MS = 35 * 86_400_000;

/** Totals. Detail fields are added next to them: `bounce:<Type>/<SubType>`, `complaint:<type>`, `delay:<type>`. */
export const STAT_FIELDS = [
  'sent',
  'delivered',
  'delayed',
  'rejected',
  /** Permanent bounces: what SES's bounce rate counts. */
  'bounced_hard',
  'bounced_soft',
  'bounced_undetermined',
  /** Permanent/OnAccountSuppressionList: never sent, outside the bounce rate. */
  'bounced_on_account_list',
  'complained',
  'complained_not_spam',
  'complained_on_account_list',
  'opened',
  'clicked',
  'rendering_failed',
  'subscription',
] as const;

export type StatField = (typeof STAT_FIELDS)[number];
export type StatCounts = Map<string, number>;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface DailyStats {
  day: string;
  counts: Record<string, number>;
}

/** The counters of each UTC day from `fromMs` to `toMs` inclusive; a day without events has `{}`. */
export async function readDailyStats(
  redis: Redis,
  keys: FeedbackKeys,
  fromMs: number,
  toMs: number,
): Promise<DailyStats[]> {
  const days: string[] = [];
  for (let at = Date.parse(utcDay(fromMs)); at <= toMs; at += 86_400_000) days.push(utcDay(at));
  const pipeline = redis.pipeline();
  for (const day of days) pipeline.hgetall(keys.statsDay(day));
  const replies = (await pipeline.exec()) ?? [];
  return days.map((day, index) => {
    const [err, raw] = replies[index] ?? [null, {}];
    if (err) throw err;
    const counts: Record<string, number> = {};
    for (const [field, value] of Object.entries(raw as Record<string, string>)) counts[field] = Number(value);
    return { day, counts };
  });
}
