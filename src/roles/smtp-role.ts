// The SMTP role: the listener, the intake that puts accepted mail into Redis, and what the listener
// needs for AUTH (users file, failure throttle) and TLS (reloadable certificate). It also publishes
// the users' dailyCap and rateShare for the workers, which apply them to mail already queued.
import type { AddressInfo } from 'node:net';
import { createAuthThrottle, createUserDirectory, type UserDirectory } from '../auth/index.js';
import { createPolicyPublisher, type PolicyPublisher } from '../auth/policy-publisher.js';
import { openRelayRisk } from '../config/index.js';
import { createProducer } from '../queue/producer.js';
import { createIntake } from '../smtp/intake.js';
import { createSmtpListener } from '../smtp/listener.js';
import { watchQueueRoom } from '../smtp/queue-room.js';
import { createRecipientPolicy } from '../smtp/recipient-policy.js';
import { withDeadline } from '../shared/deadline.js';
import { readyOrAfter } from '../shared/redis.js';
import { coalesceRedisWrites } from '../shared/write-coalescing.js';
import { createCertificateStore, type CertificateStore } from '../tls/index.js';
import { listenFailure, outboundQueueFor, type RoleContext, type RunningRole } from './context.js';
import { createSuppression } from './feedback.js';

/** How long the listener waits for its Redis connection before it listens anyway (answering 451). */
const INTAKE_READY_WAIT_MS = 3000;
/** How long start-up waits for the users' policy to reach Redis before it goes on without. */
const POLICY_PUBLISH_WAIT_MS = 2000;

export interface SmtpRole extends RunningRole {
  address: AddressInfo;
  tlsAddress?: AddressInfo | undefined;
  /** Re-reads the users file and the certificate (SIGHUP). */
  reload(): Promise<void>;
}

export async function startSmtpRole(ctx: RoleContext): Promise<SmtpRole> {
  const { config, logger, keys } = ctx;
  ctx.metrics.enable('smtp');
  const intakeRedis = ctx.connect('intake', 'intake');
  // Before listening: a first client should not get 451 only because the connection is still new.
  await readyOrAfter(intakeRedis, INTAKE_READY_WAIT_MS);
  coalesceRedisWrites(intakeRedis);
  const queue = outboundQueueFor(ctx, intakeRedis);
  const producer = createProducer({
    queue,
    redis: intakeRedis,
    keys,
    rawTtlMs: ctx.rawTtlMs,
    timeoutMs: config.SMTP_INTAKE_TIMEOUT,
    waitReplicas: config.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT,
  });
  const queueRoom = watchQueueRoom({
    redis: intakeRedis,
    deploymentKey: keys.raw('queue-room'),
    highWaterPercent: config.REDIS_MEMORY_HIGH_WATER,
    logger,
  });
  // Every successful (re)load is published for the workers: mail already queued uses it.
  let policy: PolicyPublisher | undefined;
  const users: UserDirectory | undefined = config.SMTP_USERS_FILE
    ? await createUserDirectory({
        path: config.SMTP_USERS_FILE,
        logger,
        onReload: (outcome) => {
          if (outcome.ok) void policy?.publish();
        },
      })
    : undefined;
  // One 'command' connection for what AUTH needs from Redis: the failure throttle and the policy.
  const authRedis = users ? ctx.connect('command', 'auth') : undefined;
  if (users && authRedis) {
    policy = createPolicyPublisher({
      redis: authRedis,
      key: keys.userPolicy,
      users: () => users.list(),
      logger,
    });
    // Never holds start-up for long (a failure is logged and tried again): workers use each
    // message's own copy of the policy meanwhile.
    await withDeadline(policy.publish(), POLICY_PUBLISH_WAIT_MS, 'publishing the users policy').catch(
      () => undefined,
    );
  }
  const tls: CertificateStore | undefined =
    config.SMTP_TLS_CERT && config.SMTP_TLS_KEY
      ? await createCertificateStore({ certPath: config.SMTP_TLS_CERT, keyPath: config.SMTP_TLS_KEY, logger })
      : undefined;
  const throttle = authRedis
    ? createAuthThrottle({
        redis: authRedis,
        prefix: keys.authFailures,
        maxFailures: config.SMTP_AUTH_MAX_FAILURES,
        windowMs: config.SMTP_AUTH_FAILURE_WINDOW,
        cooldownMs: config.SMTP_AUTH_COOLDOWN,
        logger,
      })
    : undefined;
  if (users && !tls && !config.SMTP_ALLOW_INSECURE_AUTH) {
    logger.warn(
      'smtp.auth_unreachable: SMTP_USERS_FILE is set but AUTH needs TLS (SMTP_TLS_CERT/KEY) or SMTP_ALLOW_INSECURE_AUTH=true',
    );
  }
  const openRelay = openRelayRisk(config);
  if (openRelay) logger.warn(`smtp.open_relay: ${openRelay}`);
  const listener = createSmtpListener({
    config,
    logger,
    metrics: ctx.metrics,
    users,
    throttle,
    tls,
    queueRefusal: () => queueRoom.refusal(),
    checkRecipient: createRecipientPolicy({
      suppression: createSuppression(ctx, intakeRedis),
      action: config.SUPPRESSION_ACTION,
      logger,
      metrics: ctx.metrics,
    }),
    handleData: createIntake({
      producer,
      hostname: config.SMTP_NAME,
      receivedHeader: config.SMTP_RECEIVED_HEADER,
      maxMessageBytes: config.SMTP_MAX_MESSAGE_BYTES,
      defaultConfigurationSet: config.SES_CONFIGURATION_SET,
      logger,
      metrics: ctx.metrics,
      trace: ctx.traceStore(intakeRedis),
      spool: { redis: intakeRedis, key: (queueId) => keys.spool(queueId), ttlMs: ctx.rawTtlMs },
    }),
  });
  const addresses = await listener.start().catch((err: unknown) => {
    const port =
      config.SMTP_TLS_PORT !== undefined && (err as { port?: unknown }).port === config.SMTP_TLS_PORT
        ? 'SMTP_TLS_PORT'
        : 'SMTP_PORT';
    throw listenFailure(err, { port, host: 'SMTP_HOST' });
  });
  policy?.start();
  return {
    address: addresses.smtp,
    tlsAddress: addresses.smtps,
    async reload() {
      await users?.reload();
      // The reload published the users' policy (onReload); reload() resolves once it is written.
      await policy?.idle();
      await tls?.reload();
    },
    async stop() {
      queueRoom.stop();
      await listener.stop(config.SHUTDOWN_TIMEOUT);
      users?.close();
      policy?.stop();
      tls?.close();
      await queue.close().catch(() => undefined);
    },
  };
}
