// Gathers the inputs of the operators' stats from Redis and BullMQ, in parallel, and shapes them with
// the pure functions of stats.ts. Read-only apart from the quota ledger's own clean-up of old minutes.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SendingHolds } from '../queue/holds.js';
import { createDailyQuota } from '../queue/quota.js';
import { parseReputationReading } from '../queue/reputation-state.js';
import { createKeys } from '../shared/keys.js';
import type { SuppressionStore } from '../suppression/store.js';
import { createFeedbackKeys } from '../webhook/keys.js';
import { readDailyStats } from '../webhook/stats.js';
import {
  dayFigures,
  DEFAULT_STATS_DAYS,
  feedbackRates,
  oldestWaitingAge,
  parseAccountSnapshot,
  QUEUE_STATES,
  quotaFigures,
  RATE_WINDOW_DAYS,
  type GatewayStats,
  type QueueFigures,
  type QueueState,
} from './stats.js';

const DAY_MS = 86_400_000;

export interface StatsDeps {
  redis: Redis;
  prefix: string;
  queue: Queue;
  holds: SendingHolds;
  suppression: SuppressionStore;
}

export interface StatsOptions {
  /** Days of daily figures, today included. */
  days?: number;
  now?: number;
}

async function readQueue(queue: Queue, now: number): Promise<QueueFigures> {
  const [counts, [oldest], paused] = await Promise.all([
    queue.getJobCounts(...QUEUE_STATES),
    queue.getJobs(['waiting'], 0, 0, true),
    queue.isPaused(),
  ]);
  const figures = Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[state] ?? 0])) as Record<
    QueueState,
    number
  >;
  return { paused, counts: figures, oldestWaitingAgeMs: oldestWaitingAge(oldest?.timestamp, now) };
}

export async function readStats(deps: StatsDeps, options: StatsOptions = {}): Promise<GatewayStats> {
  const now = options.now ?? Date.now();
  const days = options.days ?? DEFAULT_STATS_DAYS;
  const keys = createKeys(deps.prefix);
  const feedbackKeys = createFeedbackKeys(deps.prefix);
  // One read covers both the chart's days and the rate window.
  const span = Math.max(days, RATE_WINDOW_DAYS);
  const [daily, queue, snapshot, sentLast24Hours, count, hold, reputation] = await Promise.all([
    readDailyStats(deps.redis, feedbackKeys, now - (span - 1) * DAY_MS, now),
    readQueue(deps.queue, now),
    deps.redis.get(keys.accountState),
    createDailyQuota(deps.redis, keys.dailyQuota).sentLast24Hours(),
    deps.suppression.count(),
    deps.holds.current(),
    deps.redis.hget(keys.reputation, 'reading'),
  ]);
  const { account, pacing } = parseAccountSnapshot(snapshot);
  return {
    at: now,
    days: daily.slice(-days).map(dayFigures),
    rates: feedbackRates(daily.slice(-RATE_WINDOW_DAYS)),
    queue,
    quota: quotaFigures(account, sentLast24Hours),
    pacing,
    suppressions: { count },
    hold: hold ?? null,
    reputation: parseReputationReading(reputation),
  };
}
