// Prometheus metrics of one gateway process (prom-client, one registry per app so tests can run
// several apps in one process). Counters and histograms are fed by the roles as things happen;
// gauges that describe shared state (queue depth, oldest job, quota, list size, rates) are read
// from Redis when /metrics is scraped, through collectors the roles register.
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

const PREFIX = 'ses_relay_';

export type Collector = () => Promise<void>;

/** Metrics of other processes (SMTP child processes), merged into this one's at scrape time. */
export type RemoteMetrics = () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const collectors: Collector[] = [];
  const remotes: RemoteMetrics[] = [];
  const reg = { registers: [registry] };

  const metrics = {
    registry,
    smtpConnections: new Counter({
      ...reg,
      name: `${PREFIX}smtp_connections_total`,
      help: 'SMTP connections accepted by the listener',
    }),
    messagesAccepted: new Counter({
      ...reg,
      name: `${PREFIX}messages_accepted_total`,
      help: 'Messages queued and answered with 250',
    }),
    messagesRefused: new Counter({
      ...reg,
      name: `${PREFIX}messages_refused_total`,
      help: 'Refusals by reason (network, sender, recipients, size, address, parameter, queue, suppressed, auth, …)',
      labelNames: ['reason'] as const,
    }),
    recipientsSuppressed: new Counter({
      ...reg,
      name: `${PREFIX}recipients_suppressed_total`,
      help: 'Recipients refused or dropped because they are on the suppression list',
      labelNames: ['stage'] as const,
    }),
    sesCalls: new Counter({
      ...reg,
      name: `${PREFIX}ses_calls_total`,
      help: 'SES SendEmail calls by outcome (sent, throttled, quota, paused, permanent, transient)',
      labelNames: ['outcome'] as const,
    }),
    sesCallDuration: new Histogram({
      ...reg,
      name: `${PREFIX}ses_call_duration_seconds`,
      help: 'SES SendEmail call latency',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    recipientsSent: new Counter({
      ...reg,
      name: `${PREFIX}recipients_sent_total`,
      help: 'Recipients accepted by SES',
    }),
    pacingRate: new Gauge({
      ...reg,
      name: `${PREFIX}pacing_rate`,
      help: 'Pacing rate in recipients per second',
    }),
    quotaHeadroom: new Gauge({
      ...reg,
      name: `${PREFIX}quota_headroom`,
      help: 'Recipients that may still be sent in the rolling 24 hours (-1 when unlimited)',
    }),
    queueJobs: new Gauge({
      ...reg,
      name: `${PREFIX}queue_jobs`,
      help: 'Jobs in the outbound queue by state',
      labelNames: ['state'] as const,
    }),
    queueOldestWaiting: new Gauge({
      ...reg,
      name: `${PREFIX}queue_oldest_waiting_seconds`,
      help: 'Age of the oldest message waiting to be sent',
    }),
    sendingHeld: new Gauge({
      ...reg,
      name: `${PREFIX}sending_held`,
      help: '1 while sending is on hold (paused account, operator or reputation guard)',
      labelNames: ['by'] as const,
    }),
    snsNotifications: new Counter({
      ...reg,
      name: `${PREFIX}sns_notifications_total`,
      help: 'SNS messages received by type and result',
      labelNames: ['type', 'result'] as const,
    }),
    suppressionListSize: new Gauge({
      ...reg,
      name: `${PREFIX}suppression_list_size`,
      help: 'Addresses on the suppression list',
    }),
    bounceRate: new Gauge({
      ...reg,
      name: `${PREFIX}bounce_rate`,
      help: 'Hard bounces / sent over the reputation window (0–1)',
    }),
    complaintRate: new Gauge({
      ...reg,
      name: `${PREFIX}complaint_rate`,
      help: 'Complaints / sent over the reputation window (0–1)',
    }),

    /** Registers a function that refreshes gauges from shared state before each scrape. */
    addCollector(collector: Collector): void {
      collectors.push(collector);
    },

    addRemote(source: RemoteMetrics): void {
      remotes.push(source);
    },

    /** Refreshes gauges (a failing collector leaves its gauges as they were) and renders the text. */
    async render(): Promise<string> {
      await Promise.allSettled(collectors.map((collect) => collect()));
      if (remotes.length === 0) return registry.metrics();
      // Counters add up across processes; prom-client's aggregator knows how each default metric
      // combines (sum, min, average…).
      const others = (await Promise.all(remotes.map((remote) => remote()))).flat();
      return AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), ...others]).metrics();
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
