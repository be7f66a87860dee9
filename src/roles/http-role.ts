// The HTTP role: health and readiness, Prometheus metrics (queue-wide gauges are read from Redis
// at scrape time, http-metrics.ts); the SNS webhook and the admin surface mount here too. Readiness
// is Redis reachability and the process's phase (starting, running, draining), nothing else.
import type { AddressInfo } from 'node:net';
import { createMetricsRouter } from '../http/metrics-route.js';
import { createHttpServer, STOP_GRACE_MS, type Readiness } from '../http/server.js';
import { createSendingHolds } from '../queue/holds.js';
import type http from 'node:http';
import type https from 'node:https';
import { createAdminRouter } from '../admin/index.js';
import { coalesceRedisWrites } from '../shared/write-coalescing.js';
import { createCertificateStore, smtpServerTlsOptions } from '../tls/index.js';
import { createSnsFastPath, createSnsRouter, type CertificateFetcher } from '../webhook/index.js';
import { snsAnswerCode } from '../metrics/label-values.js';
import { createFeedbackHandler, createSuppression } from './feedback.js';
import { redisAnswers, registerHttpCollectors } from './http-metrics.js';
import { listenFailure, outboundQueueFor, type RoleContext, type RunningRole } from './context.js';

const SNS_TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

export interface HttpRole extends RunningRole {
  /** Reads HTTP_TLS_CERT and HTTP_TLS_KEY again (SIGHUP); nothing without them. */
  reload(): Promise<void>;
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
  metrics.enable('http');
  const suppression = createSuppression(ctx, redis);
  registerHttpCollectors({ metrics, config, redis, queue, holds, suppression });
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
    rawTtlMs: ctx.rawTtlMs,
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
  const countSns = (req: http.IncomingMessage, status: number, code: string | undefined) => {
    // Only known values become labels: the header is the sender's to choose.
    const header = String(req.headers['x-amz-sns-message-type']);
    const type = SNS_TYPES.has(header) ? header : 'other';
    metrics.snsNotifications.inc({ type, result: String(status), code: snsAnswerCode(code) });
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
    async readiness(): Promise<Readiness> {
      // Holds on sending are not readiness problems: a held pod must keep taking mail, SNS feedback
      // and the admin API's resume. They show in ses_relay_sending_held, /admin and the logs.
      const phase = ctx.phase();
      if (phase === 'draining') return { status: 'draining', problems: ['shutting down'] };
      const problems = [
        ...((await redisAnswers(redis)) ? [] : ['redis: unreachable']),
        ...ctx.readinessProblems(),
      ];
      if (phase === 'starting') return { status: 'starting', problems: ['roles starting', ...problems] };
      return { status: problems.length === 0 ? 'ready' : 'not-ready', problems };
    },
  });
  const unfollow = tls?.onChange((material) => (server.server as https.Server).setSecureContext(material));
  const address = await server.start().catch((err: unknown) => {
    throw listenFailure(err, { port: 'HTTP_PORT', host: 'HTTP_HOST' });
  });
  return {
    address,
    async reload() {
      await tls?.reload();
    },
    async stop() {
      // The HTTP role stops last, inside main.ts's margin over SHUTDOWN_TIMEOUT: a client that stalls
      // (a download it stopped reading, a request sent half-way) is cut after a short grace.
      await server.stop(Math.min(STOP_GRACE_MS, config.SHUTDOWN_TIMEOUT));
      unfollow?.();
      tls?.close();
      await queue.close().catch(() => undefined);
    },
  };
}
