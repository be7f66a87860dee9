// The gauges the HTTP role reads from Redis when /metrics is scraped: queue depth, oldest waiting
// job, holds, suppression list size, bounce and complaint rates (and the recipients they are
// measured over), whether Redis answers at all and how much of its memory is used.
// Every process serving /metrics runs the HTTP role, so these describe the whole deployment.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { clearGauge, redisMemoryCollector } from '../metrics/collectors.js';
import { HOLD_SOURCES } from '../metrics/definitions.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SendingHolds } from '../queue/holds.js';
import { readRates } from '../queue/reputation.js';
import { withDeadline } from '../shared/deadline.js';
import type { SuppressionStore } from '../suppression/index.js';

/** How long a PING may take before Redis counts as down (metrics and readiness). */
export const REDIS_PING_DEADLINE_MS = 2000;

/** Whether Redis answers PING within the deadline. */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  try {
    return (await withDeadline(redis.ping(), REDIS_PING_DEADLINE_MS, 'redis PING')) === 'PONG';
  } catch {
    return false;
  }
}

export interface HttpMetricsDeps {
  metrics: Metrics;
  config: Config;
  /** A connection that fails fast ('command'): a scrape must not wait through an outage. */
  redis: Redis;
  queue: Queue;
  holds: SendingHolds;
  suppression: SuppressionStore;
}

export function registerHttpCollectors(deps: HttpMetricsDeps): void {
  const { metrics, config, redis, queue, holds, suppression } = deps;
  metrics.addCollector({
    name: 'redis',
    // Never cleared: 0 is the answer when Redis does not reply.
    gauges: [],
    collect: async () => metrics.redisUp.set((await redisAnswers(redis)) ? 1 : 0),
  });
  metrics.addCollector(
    redisMemoryCollector(redis, metrics.redisMemoryUsed, metrics.redisMemoryMax, metrics.redisMayEvict),
  );
  metrics.addCollector({
    name: 'suppression',
    gauges: [metrics.suppressionListSize],
    collect: async () => metrics.suppressionListSize.set(await suppression.count()),
  });
  metrics.addCollector({
    name: 'reputation',
    gauges: [metrics.bounceRate, metrics.complaintRate, metrics.reputationRecipients],
    async collect() {
      const windowDays = Math.max(1, Math.round(config.REPUTATION_WINDOW / 86_400_000));
      const rates = await readRates(redis, config.REDIS_PREFIX, windowDays);
      metrics.reputationRecipients.set(rates.sent);
      // No rate while nothing was sent in the window: absent, not 0.
      if (rates.bounceRate === null) clearGauge(metrics.bounceRate);
      else metrics.bounceRate.set(rates.bounceRate);
      if (rates.complaintRate === null) clearGauge(metrics.complaintRate);
      else metrics.complaintRate.set(rates.complaintRate);
    },
  });
  metrics.addCollector({
    name: 'queue',
    gauges: [metrics.queueJobs, metrics.queueOldestWaiting],
    async collect() {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      );
      for (const [state, count] of Object.entries(counts)) metrics.queueJobs.set({ state }, count);
      const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
      metrics.queueOldestWaiting.set(oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
    },
  });
  metrics.addCollector({
    name: 'holds',
    gauges: [metrics.sendingHeld],
    async collect() {
      const hold = await holds.current();
      for (const by of HOLD_SOURCES) metrics.sendingHeld.set({ by }, hold?.by === by ? 1 : 0);
    },
  });
}
