// The HTTP role: health and readiness, Prometheus metrics (queue-wide gauges are read from Redis
// at scrape time); the SNS webhook and the admin surface mount here too.
import type { AddressInfo } from 'node:net';
import { createMetricsRouter } from '../http/metrics-route.js';
import { createHttpServer } from '../http/server.js';
import { createSendingHolds } from '../queue/holds.js';
import type http from 'node:http';
import type https from 'node:https';
import { createAdminRouter } from '../admin/index.js';
import { readRates } from '../queue/reputation.js';
import { coalesceRedisWrites } from '../shared/write-coalescing.js';
import { createCertificateStore, smtpServerTlsOptions } from '../tls/index.js';
import { createSnsFastPath, createSnsRouter, type CertificateFetcher } from '../webhook/index.js';
import { createFeedbackHandler, createSuppression } from './feedback.js';
import { outboundQueueFor, type RoleContext, type RunningRole } from './context.js';

const SNS_TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

export interface HttpRole extends RunningRole {
  address: AddressInfo;
}

export interface HttpRoleDeps {
  fetchSnsCertificate?: CertificateFetcher | undefined;
}

export async function startHttpRole(ctx: RoleContext, deps: HttpRoleDeps = {}): Promise<HttpRole> {
  const { config, logger, keys } = ctx;
  const redis = ctx.connect('command', 'http');
  // Many webhook posts at once: their Redis commands leave in one write per event-loop turn.
  coalesceRedisWrites(redis);
  const queue = outboundQueueFor(ctx, redis);
  const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
  const { metrics } = ctx;
  const suppression = createSuppression(ctx, redis);
  metrics.addCollector(async () => metrics.suppressionListSize.set(await suppression.count()));
  metrics.addCollector(async () => {
    const rates = await readRates(
      redis,
      config.REDIS_PREFIX,
      Math.max(1, Math.round(config.REPUTATION_WINDOW / 86_400_000)),
    );
    if (rates.bounceRate !== null) metrics.bounceRate.set(rates.bounceRate);
    if (rates.complaintRate !== null) metrics.complaintRate.set(rates.complaintRate);
  });
  const webhook = createFeedbackHandler(ctx, redis, suppression, deps.fetchSnsCertificate);
  for (const warning of webhook.warnings) logger.warn(warning);
  const admin = createAdminRouter({
    redis,
    prefix: config.REDIS_PREFIX,
    queue,
    holds,
    suppression,
    trace: ctx.traceStore(redis),
    logger,
    auth: { token: config.ADMIN_TOKEN, user: config.ADMIN_USER, password: config.ADMIN_PASSWORD },
  });
  if (admin.warning) logger.warn(admin.warning);
  const tls =
    config.HTTP_TLS_CERT && config.HTTP_TLS_KEY
      ? await createCertificateStore({
          certPath: config.HTTP_TLS_CERT,
          keyPath: config.HTTP_TLS_KEY,
          variables: { cert: 'HTTP_TLS_CERT', key: 'HTTP_TLS_KEY' },
          logger,
        })
      : undefined;
  metrics.addCollector(async () => {
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
    const hold = await holds.current();
    for (const by of ['ses', 'operator', 'reputation'] as const)
      metrics.sendingHeld.set({ by }, hold?.by === by ? 1 : 0);
  });
  const countSns = (req: http.IncomingMessage, status: number) => {
    // Only known values become labels: the header is the sender's to choose.
    const header = String(req.headers['x-amz-sns-message-type']);
    const type = SNS_TYPES.has(header) ? header : 'other';
    metrics.snsNotifications.inc({ type, result: String(status) });
  };
  const server = createHttpServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    logger,
    fastPaths: [createSnsFastPath({ webhook, logger, onAnswered: countSns })],
    mount(app) {
      app.use(createMetricsRouter(metrics, config.METRICS_TOKEN));
      app.use(createSnsRouter({ webhook, logger, onAnswered: countSns }));
      app.use(admin.router);
    },
    tls: tls ? smtpServerTlsOptions(tls) : undefined,
    async readiness() {
      const problems: string[] = [];
      const pong = await redis.ping().catch(() => 'unreachable');
      if (pong !== 'PONG') problems.push('redis: unreachable');
      const hold = await holds.current().catch(() => undefined);
      // An operator's pause is a decision, not a fault: only SES or the reputation guard make it unready.
      if (hold && hold.by !== 'operator') {
        problems.push(`sending on hold since ${new Date(hold.since).toISOString()}: ${hold.reason}`);
      }
      return problems;
    },
  });
  const unfollow = tls?.onChange((material) => (server.server as https.Server).setSecureContext(material));
  const address = await server.start();
  return {
    address,
    async stop() {
      await server.stop();
      unfollow?.();
      tls?.close();
      await queue.close().catch(() => undefined);
    },
  };
}
