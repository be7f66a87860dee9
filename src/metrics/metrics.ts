// Prometheus metrics of one gateway process (prom-client, one registry per app so tests can run
// several apps in one process). Counters and histograms are fed by the roles as things happen;
// gauges that describe shared state (queue depth, oldest job, quota, list size, rates) are read
// from Redis when /metrics is scraped, through collectors the roles register. Each role registers
// its own group of metrics (definitions.ts) when it starts.
import {
  AggregatorRegistry,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { runCollectors, type Collector } from './collectors.js';
import { defineMetrics, metricGroups, METRIC_PREFIX, type MetricGroup } from './definitions.js';

export type { Collector } from './collectors.js';
export type { MetricGroup } from './definitions.js';

/** Metrics of other processes (SMTP child processes), merged into this one's at scrape time. */
export type RemoteMetrics = () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const definitions = defineMetrics();
  const groups = metricGroups(definitions);
  const enabled = new Set<MetricGroup>();
  const collectors: Collector[] = [];
  const remotes: RemoteMetrics[] = [];

  return {
    registry,
    ...definitions,

    /** Registers a group's metrics (once) and sets its labelled counters to 0 for known labels. */
    enable(group: MetricGroup): void {
      if (enabled.has(group)) return;
      enabled.add(group);
      for (const metric of groups[group].metrics) registry.registerMetric(metric);
      groups[group].initialise();
    },

    /** Registers a function that refreshes gauges from shared state before each scrape. */
    addCollector(collector: Collector): void {
      collectors.push(collector);
    },

    addRemote(source: RemoteMetrics): void {
      remotes.push(source);
    },

    /** Refreshes gauges (within the collectors' deadline) and renders the text. */
    async render(): Promise<string> {
      await runCollectors(collectors);
      if (remotes.length === 0) return registry.metrics();
      // Counters add up across processes; prom-client's aggregator knows how each default metric
      // combines (sum, min, average…).
      // prom-client leaves out what has no sum (aggregator `omit`: the process start time), but the
      // dashboard finds jobs and instances by the start time, and restarts show in it: this
      // process's own value stands for the group (its children are its to restart).
      const own = (await registry.getMetricsAsJSON()).map((metric) =>
        metric.aggregator === 'omit' ? { ...metric, aggregator: 'first' as const } : metric,
      );
      const others = (await Promise.all(remotes.map((remote) => remote()))).flat();
      return AggregatorRegistry.aggregate([own, ...others]).metrics();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
