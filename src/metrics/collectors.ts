// Collectors refresh gauges from shared state (Redis) when /metrics is scraped. Each gets a deadline,
// so a scrape answers promptly while Redis is down; a collector that fails or overruns has its
// gauges cleared, so the scrape shows no value rather than the last one it read.
import type { Gauge } from 'prom-client';
import { withDeadline } from '../shared/deadline.js';

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
