// The gateway's own metrics, created unregistered and grouped by the part of the gateway that feeds
// them. A process registers only the groups it runs (metrics.ts), so a gauge no part of it sets is
// absent from its /metrics instead of a 0 that dashboards would read as a value (a quota headroom of
// 0 from an http-only process, say).
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import type { HoldState } from '../queue/holds.js';
import {
  REFUSAL_REASONS,
  SES_CALL_OUTCOMES,
  SNS_ANSWER_CODES,
  snsAnswerStatus,
  SUPPRESSION_STAGES,
} from './label-values.js';

export const METRIC_PREFIX = 'ses_relay_';
const PREFIX = METRIC_PREFIX;
const unregistered = { registers: [] };

/** smtp: intake; worker: delivery; http: state read from Redis at scrape time; sqs: the SQS poller. */
export type MetricGroup = 'smtp' | 'worker' | 'http' | 'sqs';

export const HOLD_SOURCES: readonly HoldState['by'][] = ['ses', 'operator', 'reputation'];

export function defineMetrics() {
  return {
    smtpConnections: new Counter({
      ...unregistered,
      name: `${PREFIX}smtp_connections_total`,
      help: 'SMTP connections accepted by the listener',
    }),
    messagesAccepted: new Counter({
      ...unregistered,
      name: `${PREFIX}messages_accepted_total`,
      help: 'Messages queued and answered with 250',
    }),
    messagesRefused: new Counter({
      ...unregistered,
      name: `${PREFIX}messages_refused_total`,
      help: 'Refusals by reason (network, sender, recipients, size, address, parameter, queue, suppressed, auth, …)',
      labelNames: ['reason'] as const,
    }),
    recipientsSuppressed: new Counter({
      ...unregistered,
      name: `${PREFIX}recipients_suppressed_total`,
      help: 'Recipients refused or dropped because they are on the suppression list',
      labelNames: ['stage'] as const,
    }),
    sesCalls: new Counter({
      ...unregistered,
      name: `${PREFIX}ses_calls_total`,
      help: 'SES SendEmail calls by outcome (sent, throttled, quota, paused, permanent, transient)',
      labelNames: ['outcome'] as const,
    }),
    sesCallDuration: new Histogram({
      ...unregistered,
      name: `${PREFIX}ses_call_duration_seconds`,
      help: 'SES SendEmail call latency',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    recipientsSent: new Counter({
      ...unregistered,
      name: `${PREFIX}recipients_sent_total`,
      help: 'Recipients accepted by SES',
    }),
    pacingRate: new Gauge({
      ...unregistered,
      name: `${PREFIX}pacing_rate`,
      help: 'Pacing rate in recipients per second',
    }),
    quotaHeadroom: new Gauge({
      ...unregistered,
      name: `${PREFIX}quota_headroom`,
      help: 'Recipients that may still be sent in the rolling 24 hours (-1 when unlimited or not yet known)',
    }),
    queueJobs: new Gauge({
      ...unregistered,
      name: `${PREFIX}queue_jobs`,
      help: 'Jobs in the outbound queue by state',
      labelNames: ['state'] as const,
    }),
    queueOldestWaiting: new Gauge({
      ...unregistered,
      name: `${PREFIX}queue_oldest_waiting_seconds`,
      help: 'Age of the oldest message waiting to be sent',
    }),
    sendingHeld: new Gauge({
      ...unregistered,
      name: `${PREFIX}sending_held`,
      help: '1 while sending is on hold (paused account, operator or reputation guard)',
      labelNames: ['by'] as const,
    }),
    snsNotifications: new Counter({
      ...unregistered,
      name: `${PREFIX}sns_notifications_total`,
      help: 'SNS messages received by type, result (HTTP status) and code (error code, none for a success)',
      labelNames: ['type', 'result', 'code'] as const,
    }),
    suppressionListSize: new Gauge({
      ...unregistered,
      name: `${PREFIX}suppression_list_size`,
      help: 'Addresses on the suppression list',
    }),
    bounceRate: new Gauge({
      ...unregistered,
      name: `${PREFIX}bounce_rate`,
      help: 'Hard bounces / sent over the reputation window (0–1); absent while nothing was sent',
    }),
    complaintRate: new Gauge({
      ...unregistered,
      name: `${PREFIX}complaint_rate`,
      help: 'Complaints / sent over the reputation window (0–1); absent while nothing was sent',
    }),
    // SES measures both rates over a representative volume: an alert on them waits for this many.
    reputationRecipients: new Gauge({
      ...unregistered,
      name: `${PREFIX}reputation_recipients`,
      help: 'Recipients sent over the reputation window: the denominator of the bounce and complaint rates',
    }),
    redisUp: new Gauge({
      ...unregistered,
      name: `${PREFIX}redis_up`,
      help: '1 when Redis answered a PING during this scrape, 0 when it did not answer in time',
    }),
    // Under noeviction a full Redis refuses writes: intake answers 451 to every message while PING
    // (and so redis_up and /readyz) still succeeds. These two let an alert see it coming.
    redisMemoryUsed: new Gauge({
      ...unregistered,
      name: `${PREFIX}redis_memory_used_bytes`,
      help: 'Memory Redis uses (INFO memory used_memory), per master (node: host:port)',
      labelNames: ['node'] as const,
    }),
    redisMemoryMax: new Gauge({
      ...unregistered,
      name: `${PREFIX}redis_memory_max_bytes`,
      help: 'Redis maxmemory (INFO memory), per master (node: host:port); 0 = no limit',
      labelNames: ['node'] as const,
    }),
    // Start-up refuses a Redis that may evict, but a restart, a failover or CONFIG SET can change
    // the policy later: intake then answers 451 (queue-room.ts), and this shows why.
    redisMayEvict: new Gauge({
      ...unregistered,
      name: `${PREFIX}redis_may_evict`,
      help: 'Whether Redis maxmemory-policy is other than noeviction (1: it may delete queued mail), per master (node: host:port)',
      labelNames: ['node'] as const,
    }),
    sqsReceived: new Counter({
      ...unregistered,
      name: `${PREFIX}sqs_messages_received_total`,
      help: 'SES feedback messages received from SQS',
    }),
    sqsApplied: new Counter({
      ...unregistered,
      name: `${PREFIX}sqs_messages_applied_total`,
      help: 'SQS messages applied (or recognised as duplicates) and deleted from the queue',
    }),
    sqsFailed: new Counter({
      ...unregistered,
      name: `${PREFIX}sqs_messages_failed_total`,
      help: 'SQS messages left in the queue: refused, not stored, or not deleted',
    }),
    sqsReceiveErrors: new Counter({
      ...unregistered,
      name: `${PREFIX}sqs_receive_errors_total`,
      help: 'Failed SQS ReceiveMessage calls (network, permissions)',
    }),
  };
}

export type MetricSet = ReturnType<typeof defineMetrics>;

export interface GroupDefinition {
  metrics: Metric[];
  /** Sets the group's labelled counters to 0 for every known label value. */
  initialise(): void;
}

export function metricGroups(m: MetricSet): Record<MetricGroup, GroupDefinition> {
  return {
    smtp: {
      metrics: [m.smtpConnections, m.messagesAccepted, m.messagesRefused, m.recipientsSuppressed],
      initialise() {
        for (const reason of REFUSAL_REASONS) m.messagesRefused.inc({ reason }, 0);
        m.recipientsSuppressed.inc({ stage: SUPPRESSION_STAGES.smtp }, 0);
      },
    },
    worker: {
      metrics: [
        m.sesCalls,
        m.sesCallDuration,
        m.recipientsSent,
        m.pacingRate,
        m.quotaHeadroom,
        m.recipientsSuppressed,
      ],
      initialise() {
        for (const outcome of SES_CALL_OUTCOMES) m.sesCalls.inc({ outcome }, 0);
        m.recipientsSuppressed.inc({ stage: SUPPRESSION_STAGES.worker }, 0);
      },
    },
    http: {
      metrics: [
        m.queueJobs,
        m.queueOldestWaiting,
        m.sendingHeld,
        m.snsNotifications,
        m.suppressionListSize,
        m.bounceRate,
        m.complaintRate,
        m.reputationRecipients,
        m.redisUp,
        m.redisMemoryUsed,
        m.redisMemoryMax,
        m.redisMayEvict,
      ],
      initialise() {
        // Notifications carry the feedback, so theirs are the series alerts watch.
        for (const code of SNS_ANSWER_CODES) {
          const result = String(snsAnswerStatus(code));
          m.snsNotifications.inc({ type: 'Notification', result, code }, 0);
        }
      },
    },
    sqs: {
      metrics: [m.sqsReceived, m.sqsApplied, m.sqsFailed, m.sqsReceiveErrors],
      initialise: () => undefined,
    },
  };
}
