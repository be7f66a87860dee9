// The worker role: SES delivery with global pacing, the 24-hour quota, account monitoring,
// holds, retries and DSNs. Any number of worker processes can share one Redis.
import { setMaxListeners } from 'node:events';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { createPacer, type Pacer } from '../pacing/index.js';
import { createConcurrencyTracker } from '../pacing/index.js';
import { createAccountMonitor, type AccountMonitor } from '../queue/account-monitor.js';
import { createByteBudget } from '../queue/byte-budget.js';
import { createDeliverer } from '../queue/deliver.js';
import { createReputationGuard } from '../queue/reputation.js';
import { STATS_TTL_MS, createFeedbackKeys, utcDay } from '../webhook/index.js';
import { createDsnSender } from '../queue/dsn-sender.js';
import { createSendingHolds, type SendingHolds } from '../queue/holds.js';
import { createProducer } from '../queue/producer.js';
import { createDailyQuota, type DailyQuota } from '../queue/quota.js';
import { createUserPolicies } from '../queue/user-policy.js';
import { createSendWorker } from '../queue/worker.js';
import { configuredCredentials, createSesClient } from '../ses/client.js';
import { withDeadline } from '../shared/deadline.js';
import { egressProxyOf } from '../shared/egress-proxy.js';
import type { CertificateFetcher } from '../webhook/index.js';
import { createSqsPoller, type SqsPollerEvent } from '../webhook/sqs-poller.js';
import type { Metrics } from '../metrics/metrics.js';
import { createFeedbackHandler, createSuppression } from './feedback.js';
import { outboundQueueFor, type RoleContext, type RunningRole } from './context.js';

/** How often the worker's concurrency is re-fitted to the measured SES latency. */
const CONCURRENCY_REFIT_MS = 2000;
/** Fewer slots than this would make a single slow call stall the pacer. */
const MIN_CONCURRENCY = 4;
/** How long start-up waits for the reputation guard's first reading (as long as for the SES account's). */
const FIRST_REPUTATION_CHECK_WAIT_MS = 5000;
/** How often a stopping worker looks whether all it still waits for is a Redis that does not answer. */
const STOP_CHECK_MS = 100;

export interface WorkerRole extends RunningRole {
  holds: SendingHolds;
  monitor: AccountMonitor;
}

export interface WorkerRoleDeps {
  ses?: SESv2Client | undefined;
  sqsCredentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  fetchSnsCertificate?: CertificateFetcher | undefined;
}

export async function startWorkerRole(ctx: RoleContext, deps: WorkerRoleDeps = {}): Promise<WorkerRole> {
  const { config, logger, keys } = ctx;
  const ses =
    deps.ses ??
    createSesClient({
      region: config.AWS_REGION,
      endpoint: config.SES_ENDPOINT,
      requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
      maxSockets: config.WORKER_CONCURRENCY,
      credentials: configuredCredentials(config),
      egress: egressProxyOf(config),
    });
  ctx.metrics.enable('worker');
  const redis = ctx.connect('worker', 'worker-bookkeeping');
  const queue = outboundQueueFor(ctx, redis);
  const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
  const quota = createDailyQuota(redis, keys.dailyQuota);
  const suppression = createSuppression(ctx, redis);
  const pacer = createPacer({ redis: ctx.connect('worker', 'pacer'), key: keys.pacer, ratePerSecond: 1 });
  const tracker = createConcurrencyTracker({
    ratePerSecond: 1,
    min: MIN_CONCURRENCY,
    max: config.WORKER_CONCURRENCY,
  });
  const applyRate = (rate: number) => {
    ctx.metrics.pacingRate.set(rate);
    pacer.setRate(rate);
    tracker.setRate(rate);
  };
  const monitor = createAccountMonitor({
    ses,
    holds,
    logger,
    rate: { fixedRate: config.SES_MAX_SEND_RATE, factor: config.SES_RATE_FACTOR },
    refreshMs: config.SES_ACCOUNT_REFRESH,
    probeMs: config.SES_PAUSE_PROBE_INTERVAL,
    publish: async (snapshot) => {
      await redis.set(keys.accountState, JSON.stringify(snapshot), 'PX', config.SES_ACCOUNT_REFRESH * 3);
    },
    onRate: applyRate,
  });
  // The rate before GetAccount answers: SES_MAX_SEND_RATE, or 1 recipient/s.
  applyRate(monitor.rate);
  const producer = createProducer({
    queue,
    redis,
    keys,
    rawTtlMs: ctx.rawTtlMs,
    timeoutMs: config.SMTP_INTAKE_TIMEOUT,
  });
  const dsn = config.DSN_FROM
    ? createDsnSender({
        from: config.DSN_FROM,
        hostname: config.SMTP_NAME,
        configurationSet: config.SES_CONFIGURATION_SET,
        producer,
        redis,
        keys,
        logger,
        isSuppressed: (address) => suppression.isSuppressed(address),
        onceWithinMs: config.FAILED_JOB_RETENTION,
      })
    : undefined;
  const trace = ctx.traceStore(redis);
  const statsKeys = createFeedbackKeys(config.REDIS_PREFIX);
  const reputation = createReputationGuard({
    redis,
    prefix: config.REDIS_PREFIX,
    holds,
    logger,
    intervalMs: config.REPUTATION_CHECK_INTERVAL,
    windowDays: Math.max(1, Math.round(config.REPUTATION_WINDOW / 86_400_000)),
    minSample: config.REPUTATION_MIN_SAMPLE,
    pauseBounceRate: config.PAUSE_BOUNCE_RATE,
    pauseComplaintRate: config.PAUSE_COMPLAINT_RATE,
  });
  const pacerRedis = ctx.connect('worker', 'user-pacers');
  const userPacers = new Map<string, Pacer>();
  const userQuotas = new Map<string, DailyQuota>();
  const userLimits = {
    pacer(user: string, rate: number): Pacer {
      let pacer = userPacers.get(user);
      if (!pacer) {
        pacer = createPacer({ redis: pacerRedis, key: keys.userPacer(user), ratePerSecond: rate });
        userPacers.set(user, pacer);
      } else if (pacer.ratePerSecond !== rate) pacer.setRate(rate);
      return pacer;
    },
    quota(user: string): DailyQuota {
      let quota = userQuotas.get(user);
      if (!quota) {
        quota = createDailyQuota(redis, keys.userQuota(user));
        userQuotas.set(user, quota);
      }
      return quota;
    },
    // The users file as the smtp role last published it, for mail queued before it changed.
    policy: createUserPolicies({ redis, key: keys.userPolicy, logger }),
  };
  // Aborted first on stop: jobs waiting for the pacer or a throttle back-off go back to the queue
  // at once instead of holding the shutdown until their turn to send.
  const stopping = new AbortController();
  // Every job waiting for the pacer or a back-off listens for it; many at once is normal, not a leak.
  setMaxListeners(0, stopping.signal);
  const deliver = createDeliverer({
    stopping: stopping.signal,
    trace,
    budget: createByteBudget(config.WORKER_MAX_INFLIGHT_BYTES),
    userLimits,
    suppression,
    onSuppressed: (count) => ctx.metrics.recipientsSuppressed.inc({ stage: 'send' }, count),
    redis,
    keys,
    ses,
    logger,
    pacer,
    quota,
    quotaLimit: () => monitor.quotaLimit(),
    sesSentLast24Hours: () => monitor.sesSentLast24Hours(),
    holds,
    pauseProbeMs: config.SES_PAUSE_PROBE_INTERVAL,
    // A probe's call ends (and reports) within the request timeout; the lease covers a dead worker.
    probeLeaseMs: config.SES_REQUEST_TIMEOUT + 5000,
    maxAgeMs: config.QUEUE_MAX_AGE,
    chunkRecordTtlMs: ctx.rawTtlMs,
    observe: (outcome, ms, recipients) => {
      ctx.metrics.sesCalls.inc({ outcome });
      ctx.metrics.sesCallDuration.observe(ms / 1000);
      if (outcome !== 'sent') return;
      ctx.metrics.recipientsSent.inc(recipients);
      // The gateway's own sent count per day: the denominator of the rates when SES publishes no Send events.
      const day = statsKeys.statsDay(utcDay(Date.now()));
      redis
        .multi()
        .hincrby(day, 'relayed', recipients)
        .pexpire(day, STATS_TTL_MS)
        .exec()
        .catch(() => undefined);
      tracker.record(ms, recipients);
    },
  });
  // Deliveries in progress: a stop waits for them (their SES calls and records), see stop() below.
  let delivering = 0;
  const trackedDeliver: typeof deliver = async (...args) => {
    delivering += 1;
    try {
      return await deliver(...args);
    } finally {
      delivering -= 1;
    }
  };
  const workerConnection = ctx.connect('worker', 'worker');
  const worker = createSendWorker({
    connection: workerConnection,
    redis,
    keys,
    logger,
    concurrency: tracker.suggested(),
    retry: ctx.retry,
    deliver: trackedDeliver,
    dsn,
    trace,
    failedRetentionMs: config.FAILED_JOB_RETENTION,
    lockDurationMs: config.WORKER_LOCK_DURATION,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
  });

  // Read on a connection that fails fast: the worker's own connections wait through Redis outages,
  // and a scrape must not.
  const metricsQuota = createDailyQuota(ctx.connect('command', 'worker-metrics'), keys.dailyQuota);
  ctx.metrics.addCollector({
    name: 'quota',
    gauges: [ctx.metrics.quotaHeadroom],
    async collect() {
      const limit = monitor.quotaLimit();
      // As the reservations count it: SES's own count when other senders on the account make it larger.
      const used = Math.max(await metricsQuota.sentLast24Hours(), monitor.sesSentLast24Hours());
      ctx.metrics.quotaHeadroom.set(Number.isFinite(limit) ? Math.max(0, limit - used) : -1);
    },
  });
  // The first reads wait a bounded time, side by side: a Redis that is down at start must not hold
  // start-up (SMTP and /healthz are up meanwhile). They go on in the background, and the worker's
  // connections take jobs once Redis answers.
  await Promise.all([
    monitor.start(),
    withDeadline(reputation.check(), FIRST_REPUTATION_CHECK_WAIT_MS, 'the first reputation check').catch(
      (err: Error) => logger.warn({ err: err.message }, 'reputation.check_failed'),
    ),
  ]);
  reputation.start();
  worker.setConcurrency(tracker.suggested());
  const refit = setInterval(() => worker.setConcurrency(tracker.suggested()), CONCURRENCY_REFIT_MS);
  refit.unref();
  await worker.start();
  if (config.SQS_QUEUE_URL) ctx.metrics.enable('sqs');
  const sqs = config.SQS_QUEUE_URL
    ? createSqsPoller({
        queueUrl: config.SQS_QUEUE_URL,
        region: config.AWS_REGION,
        endpoint: config.SQS_ENDPOINT,
        rawMessages: config.SQS_RAW_MESSAGES,
        credentials: deps.sqsCredentials ?? configuredCredentials(config),
        egress: egressProxyOf(config),
        webhook: createFeedbackHandler(ctx, redis, suppression, deps.fetchSnsCertificate),
        logger,
        observe: sqsObserver(ctx.metrics),
      })
    : undefined;
  sqs?.start();
  logger.info(
    { ratePerSecond: monitor.rate, concurrency: tracker.suggested(), dsn: Boolean(dsn) },
    'worker.started',
  );

  return {
    holds,
    monitor,
    async stop() {
      stopping.abort(new DOMException('worker stopping', 'AbortError'));
      clearInterval(refit);
      reputation.stop();
      await sqs?.stop();
      monitor.stop();
      // BullMQ's close waits for its Redis connections to end, which they never do while Redis is
      // unreachable (taskforcesh/bullmq#4656): the stop would last until the process is cut. Once no
      // delivery is in progress and Redis does not answer, what is left is clean-up in Redis that
      // cannot happen; a job left active is taken again as stalled, its sent chunks recorded.
      const outcome = await stopUnlessStuck(
        worker.stop(),
        () => delivering === 0 && workerConnection.status !== 'ready',
      );
      if (outcome === 'abandoned') {
        logger.warn(
          { redis: workerConnection.status },
          'worker.stop_without_redis: no delivery in progress and Redis does not answer; not waiting for it',
        );
      }
      await pacer.close();
      await Promise.all([...userPacers.values()].map((userPacer) => userPacer.close()));
      await queue.close();
    },
  };
}

/** Waits for `stopping`, or until `stuck()` holds (looked at every STOP_CHECK_MS). */
async function stopUnlessStuck(
  stopping: Promise<void>,
  stuck: () => boolean,
): Promise<'stopped' | 'abandoned'> {
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    timer = setInterval(() => {
      if (stuck()) resolve('abandoned');
    }, STOP_CHECK_MS);
  });
  try {
    return await Promise.race([stopping.then(() => 'stopped' as const), abandoned]);
  } finally {
    clearInterval(timer);
  }
}

/** The SQS poller's events as counters (registered by the 'sqs' metric group). */
function sqsObserver(metrics: Metrics): (event: SqsPollerEvent, count: number) => void {
  const counters = {
    received: metrics.sqsReceived,
    applied: metrics.sqsApplied,
    failed: metrics.sqsFailed,
    receive_error: metrics.sqsReceiveErrors,
  };
  return (event, count) => counters[event].inc(count);
}
