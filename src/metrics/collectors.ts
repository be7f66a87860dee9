// Collectors refresh gauges from shared state (Redis) when /metrics is scraped. Each gets a deadline,
// so a scrape answers promptly while Redis is down; a collector that fails or overruns has its
// gauges cleared, so the scrape shows no value rather than the last one it read.
import type { Redis } from 'ioredis';
import type { Gauge } from 'prom-client';
import { withDeadline } from '../shared/deadline.js';
import { evictingPolicy, parseInfo } from '../shared/redis-checks.js';
import { masterNodes, nodeAddress } from '../shared/redis-nodes.js';

/** Longest a scrape waits for one collector: well inside Prometheus's default 10 s scrape timeout. */
export const COLLECT_DEADLINE_MS = 2000;

export interface Collector {
  /** Names the collector in the deadline's error. */
  name: string;
  /** The gauges it sets; cleared when it fails. */
  gauges: Gauge<string>[];
  collect(): Promise<void>;
}

/**
 * Removes every value of a gauge, labelled or not. prom-client's reset() alone puts an unlabelled
 * gauge back to 0, which would read as a measurement; remove({}) then drops that sample too.
 */
export function clearGauge(gauge: Gauge<string>): void {
  gauge.reset();
  gauge.remove({});
}

/** Runs every collector at once; resolves when each has finished, failed or run out of time. */
export async function runCollectors(
  collectors: readonly Collector[],
  deadlineMs: number = COLLECT_DEADLINE_MS,
): Promise<void> {
  await Promise.all(
    collectors.map(async (collector) => {
      try {
        await withDeadline(collector.collect(), deadlineMs, `metrics collector ${collector.name}`);
      } catch {
        for (const gauge of collector.gauges) clearGauge(gauge);
      }
    }),
  );
}

/**
 * Redis memory per master, from INFO memory: `used_memory` and `maxmemory` (0 = no limit). Read from
 * the masters the start-up checks read (the server itself, a Sentinel's master, every Cluster master):
 * under noeviction a full master refuses writes, so intake answers 451 while PING still succeeds.
 */
export function redisMemoryCollector(
  redis: Redis,
  used: Gauge<'node'>,
  max: Gauge<'node'>,
  mayEvict: Gauge<'node'>,
): Collector {
  return {
    name: 'redis-memory',
    gauges: [used, max, mayEvict],
    async collect() {
      const nodes = await masterNodes(redis);
      const readings = await Promise.all(
        nodes.map(async (node) => ({ node: nodeAddress(node), info: parseInfo(await node.info('memory')) })),
      );
      // Set together once every master answered, so a master that left the Cluster leaves the series.
      used.reset();
      max.reset();
      mayEvict.reset();
      for (const { node, info } of readings) {
        const usedBytes = Number(info.used_memory);
        if (Number.isFinite(usedBytes)) used.set({ node }, usedBytes);
        max.set({ node }, Number(info.maxmemory ?? '0') || 0);
        mayEvict.set({ node }, evictingPolicy(info) === undefined ? 0 : 1);
      }
    },
  };
}
