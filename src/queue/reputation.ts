// The reputation guard. SES reviews an account at a 5% bounce rate or 0.1% complaint rate and may
// pause it at 10% / 0.5%. From the daily feedback counters the guard computes both rates over a
// rolling window, publishes them as metrics, warns when a review threshold is crossed, and — when
// PAUSE_BOUNCE_RATE / PAUSE_COMPLAINT_RATE are set and the window holds enough mail — puts sending
// on hold before SES does.
//
// Operators lift that hold by hand (queue resume). Sending alone cannot bring a rate over the window
// down in time (the bounces stay counted for the whole window), so a resume is an acknowledgement:
// the guard's next check finds its hold lifted and records the rates of that moment; from then on it
// pauses only when a rate rises above what was acknowledged. The acknowledgement lapses when the
// rates fall back under the thresholds, or after one REPUTATION_WINDOW, when every recipient counted
// in it has left the window and the rates describe only mail sent since.
import type { Redis } from 'ioredis';
import { feedbackRates, type FeedbackRates } from '../ops/stats.js';
import { createKeys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import { createFeedbackKeys, readDailyStats } from '../webhook/index.js';
import type { SendingHolds } from './holds.js';
import { createReputationState, type Acknowledgement } from './reputation-state.js';

/** SES's review thresholds (faqs-enforcement). */
export const REVIEW_BOUNCE_RATE = 0.05;
export const REVIEW_COMPLAINT_RATE = 0.001;

export interface ReputationSettings {
  windowDays: number;
  minSample: number;
  pauseBounceRate?: number | undefined;
  pauseComplaintRate?: number | undefined;
}

export type ReputationVerdict =
  { pause: false; warnings: string[] } | { pause: true; reason: string; warnings: string[] };

const DAY_MS = 86_400_000;

/** Whether a rate at or over its threshold calls for a pause: only above an acknowledged value. */
function overThreshold(
  rate: number | null,
  threshold: number | undefined,
  acknowledged: number | null | undefined,
) {
  if (threshold === undefined || rate === null || rate < threshold) return false;
  return acknowledged === undefined || acknowledged === null || rate > acknowledged;
}

/** Pure: what the rates call for, given the rates an operator acknowledged (if any). */
export function judgeReputation(
  rates: FeedbackRates,
  settings: ReputationSettings,
  ack?: Pick<Acknowledgement, 'bounceRate' | 'complaintRate'>,
): ReputationVerdict {
  const warnings: string[] = [];
  const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
  if (rates.bounceRate !== null && rates.bounceRate >= REVIEW_BOUNCE_RATE) {
    warnings.push(`bounce rate ${percent(rates.bounceRate)} is at or above SES's review threshold of 5%`);
  }
  if (rates.complaintRate !== null && rates.complaintRate >= REVIEW_COMPLAINT_RATE) {
    warnings.push(
      `complaint rate ${percent(rates.complaintRate)} is at or above SES's review threshold of 0.1%`,
    );
  }
  if (rates.sent < settings.minSample) return { pause: false, warnings };
  const above = (value: number | null | undefined) =>
    ack && value !== null && value !== undefined ? ` and rose above the ${percent(value)} acknowledged` : '';
  if (overThreshold(rates.bounceRate, settings.pauseBounceRate, ack?.bounceRate)) {
    return {
      pause: true,
      reason: `bounce rate ${percent(rates.bounceRate!)} reached PAUSE_BOUNCE_RATE${above(ack?.bounceRate)}`,
      warnings,
    };
  }
  if (overThreshold(rates.complaintRate, settings.pauseComplaintRate, ack?.complaintRate)) {
    return {
      pause: true,
      reason: `complaint rate ${percent(rates.complaintRate!)} reached PAUSE_COMPLAINT_RATE${above(ack?.complaintRate)}`,
      warnings,
    };
  }
  return { pause: false, warnings };
}

export async function readRates(
  redis: Redis,
  prefix: string,
  windowDays: number,
  now = Date.now(),
): Promise<FeedbackRates> {
  const days = await readDailyStats(
    redis,
    createFeedbackKeys(prefix),
    now - (windowDays - 1) * 86_400_000,
    now,
  );
  return feedbackRates(days);
}

export interface ReputationGuardOptions extends ReputationSettings {
  redis: Redis;
  prefix: string;
  holds: SendingHolds;
  logger: Logger;
  intervalMs: number;
  onRates?(rates: FeedbackRates): void;
}

/** What resuming the guard's hold does, said where operators read it (log line, CLI). */
export const RESUME_ACKNOWLEDGES =
  'resuming ("ses-relay queue resume" or the admin page) acknowledges the rates of that moment, as ' +
  "the guard's next check measures them: it pauses again only if the bounce or complaint rate rises " +
  'above them, or is still over its threshold one REPUTATION_WINDOW later';

export function createReputationGuard(options: ReputationGuardOptions) {
  const { logger, holds } = options;
  const state = createReputationState(options.redis, createKeys(options.prefix).reputation);
  let timer: NodeJS.Timeout | undefined;
  let warned = '';

  /** The acknowledgement in force: recorded now if an operator lifted the guard's hold since the last check. */
  async function acknowledgement(rates: FeedbackRates, now: number): Promise<Acknowledgement | undefined> {
    const [record, hold] = await Promise.all([state.read(), holds.current()]);
    if (record.pausedAt !== undefined && hold?.by !== 'reputation') {
      const ack = {
        bounceRate: rates.bounceRate,
        complaintRate: rates.complaintRate,
        at: now,
        until: now + options.windowDays * DAY_MS,
      };
      await state.acknowledge(ack);
      logger.warn(
        { ...ack, until: new Date(ack.until).toISOString(), heldSince: record.pausedAt },
        "reputation.acknowledged: the guard's hold was lifted by an operator; it pauses again only if a rate rises above these",
      );
      return ack;
    }
    return record.ack && record.ack.until > now ? record.ack : undefined;
  }

  async function check(): Promise<ReputationVerdict> {
    const now = Date.now();
    const rates = await readRates(options.redis, options.prefix, options.windowDays, now);
    options.onRates?.(rates);
    let ack = await acknowledgement(rates, now);
    // Back under the thresholds (or lapsed): the next crossing pauses as if nothing was acknowledged.
    if (ack && !judgeReputation(rates, options).pause) ack = undefined;
    if (!ack) await state.clearAcknowledgement();
    const verdict = judgeReputation(rates, options, ack);
    const warning = verdict.warnings.join('; ');
    // Once per change, not every interval: the same warning every five minutes is noise.
    if (warning !== warned && warning !== '')
      logger.warn({ ...rates }, `reputation.review_threshold: ${warning}`);
    warned = warning;
    if (verdict.pause) {
      if (await holds.pause({ reason: verdict.reason, by: 'reputation' }))
        logger.error({ ...rates }, `reputation.paused: ${verdict.reason}; ${RESUME_ACKNOWLEDGES}`);
      if ((await holds.current())?.by === 'reputation') await state.markPaused(now);
    }
    await state.publish({
      ...rates,
      pauseBounceRate: options.pauseBounceRate ?? null,
      pauseComplaintRate: options.pauseComplaintRate ?? null,
      minSample: options.minSample,
      at: now,
      acknowledged: ack ?? null,
    });
    return verdict;
  }

  return {
    check,
    start() {
      timer = setInterval(
        () =>
          void check().catch((err: Error) => logger.warn({ err: err.message }, 'reputation.check_failed')),
        options.intervalMs,
      );
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
