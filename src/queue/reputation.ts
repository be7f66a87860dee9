// The reputation guard. SES reviews an account at a 5% bounce rate or 0.1% complaint rate and may
// pause it at 10% / 0.5%. From the daily feedback counters the guard computes both rates over a
// rolling window, publishes them as metrics, warns when a review threshold is crossed, and — when
// PAUSE_BOUNCE_RATE / PAUSE_COMPLAINT_RATE are set and the window holds enough mail — puts sending
// on hold before SES does. Operators lift that hold by hand (queue resume).
import type { Redis } from 'ioredis';
import { feedbackRates, type FeedbackRates } from '../ops/stats.js';
import type { Logger } from '../shared/logger.js';
import { createFeedbackKeys, readDailyStats } from '../webhook/index.js';
import type { SendingHolds } from './holds.js';

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

/** Pure: what the rates call for. */
export function judgeReputation(rates: FeedbackRates, settings: ReputationSettings): ReputationVerdict {
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
  const { pauseBounceRate, pauseComplaintRate } = settings;
  if (pauseBounceRate !== undefined && rates.bounceRate !== null && rates.bounceRate >= pauseBounceRate) {
    return {
      pause: true,
      reason: `bounce rate ${percent(rates.bounceRate)} reached PAUSE_BOUNCE_RATE`,
      warnings,
    };
  }
  if (
    pauseComplaintRate !== undefined &&
    rates.complaintRate !== null &&
    rates.complaintRate >= pauseComplaintRate
  ) {
    return {
      pause: true,
      reason: `complaint rate ${percent(rates.complaintRate)} reached PAUSE_COMPLAINT_RATE`,
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

export function createReputationGuard(options: ReputationGuardOptions) {
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let warned = '';

  async function check(): Promise<ReputationVerdict> {
    const rates = await readRates(options.redis, options.prefix, options.windowDays);
    options.onRates?.(rates);
    const verdict = judgeReputation(rates, options);
    const warning = verdict.warnings.join('; ');
    // Once per change, not every interval: the same warning every five minutes is noise.
    if (warning !== warned && warning !== '')
      logger.warn({ ...rates }, `reputation.review_threshold: ${warning}`);
    warned = warning;
    if (verdict.pause && (await options.holds.pause({ reason: verdict.reason, by: 'reputation' }))) {
      logger.error(
        { ...rates },
        `reputation.paused: ${verdict.reason}; resume with "ses-relay queue resume"`,
      );
    }
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
