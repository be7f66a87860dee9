// The SMTP role: the listener and the intake that puts accepted mail into Redis.
import type { AddressInfo } from 'node:net';
import { createOutboundQueue } from '../queue/outbound.js';
import { createProducer } from '../queue/producer.js';
import { createIntake } from '../smtp/intake.js';
import { createSmtpListener } from '../smtp/listener.js';
import { createRecipientPolicy } from '../smtp/recipient-policy.js';
import { createSuppressionStore } from '../suppression/index.js';
import type { RoleContext, RunningRole } from './context.js';

export interface SmtpRole extends RunningRole {
  address: AddressInfo;
}

export async function startSmtpRole(ctx: RoleContext): Promise<SmtpRole> {
  const { config, logger, keys } = ctx;
  const intakeRedis = ctx.connect('intake', 'intake');
  const queue = createOutboundQueue({
    connection: intakeRedis,
    keys,
    retry: ctx.retry,
    completedRetentionMs: config.COMPLETED_JOB_RETENTION,
    failedRetentionMs: config.FAILED_JOB_RETENTION,
    logger,
  });
  const producer = createProducer({
    queue,
    redis: intakeRedis,
    keys,
    rawTtlMs: ctx.rawTtlMs,
    timeoutMs: config.SMTP_INTAKE_TIMEOUT,
  });
  const suppression = createSuppressionStore({
    redis: intakeRedis,
    prefix: config.REDIS_PREFIX,
    ...(config.SUPPRESSION_HASH_KEY ? { hashKey: config.SUPPRESSION_HASH_KEY } : {}),
  });
  const listener = createSmtpListener({
    checkRecipient: createRecipientPolicy({
      suppression,
      action: config.SUPPRESSION_ACTION,
      logger,
      metrics: ctx.metrics,
    }),
    config,
    logger,
    handleData: createIntake({
      producer,
      hostname: config.SMTP_NAME,
      maxMessageBytes: config.SMTP_MAX_MESSAGE_BYTES,
      defaultConfigurationSet: config.SES_CONFIGURATION_SET,
      logger,
      metrics: ctx.metrics,
      trace: ctx.traceStore(intakeRedis),
    }),
    metrics: ctx.metrics,
  });
  const address = await listener.start();
  return {
    address,
    async stop() {
      await listener.stop(config.SHUTDOWN_TIMEOUT);
      await queue.close().catch(() => undefined);
    },
  };
}
