// Composition root: creates the clients, wires the roles this process runs and returns
// { start, stop }. Nothing connects or listens until start(); stop() shuts down from the edges
// inward: SMTP stops taking mail, in-flight SES calls finish, HTTP closes, Redis is closed last.
import type { AddressInfo } from 'node:net';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Redis } from 'ioredis';
import type { Config, Role } from './config/index.js';
import { createHttpServer, type HttpServer } from './http/server.js';
import { createOutboundQueue } from './queue/outbound.js';
import { createProducer } from './queue/producer.js';
import type { RetryPolicy } from './queue/retry.js';
import { createSendWorker, type SendWorker } from './queue/worker.js';
import { createSesClient } from './ses/client.js';
import { createKeys } from './shared/keys.js';
import { createLogger, type Logger } from './shared/logger.js';
import { closeRedis, createRedisFactory } from './shared/redis.js';
import { createIntake } from './smtp/intake.js';
import { createSmtpListener, type SmtpListener } from './smtp/listener.js';

export interface AppAddresses {
  smtp?: AddressInfo;
  http?: AddressInfo;
}

export interface App {
  start(): Promise<AppAddresses>;
  stop(): Promise<void>;
  readonly logger: Logger;
}

export interface AppDependencies {
  logger?: Logger;
  ses?: SESv2Client;
}

export function createApp(config: Config, deps: AppDependencies = {}): App {
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL);
  const roles = new Set<Role>(config.ROLES);
  const keys = createKeys(config.REDIS_PREFIX);
  const redisFor = createRedisFactory({
    url: config.REDIS_URL,
    commandTimeoutMs: config.SMTP_INTAKE_TIMEOUT,
    logger,
  });
  const retry: RetryPolicy = {
    attempts: config.SEND_MAX_ATTEMPTS,
    baseMs: config.SEND_RETRY_BASE,
    maxMs: config.SEND_RETRY_MAX,
    maxAgeMs: config.QUEUE_MAX_AGE,
  };
  const rawTtlMs = config.QUEUE_MAX_AGE + config.FAILED_JOB_RETENTION;
  const connections: Redis[] = [];
  const connect = (use: Parameters<typeof redisFor>[0], name: string) => {
    const client = redisFor(use, name);
    connections.push(client);
    return client;
  };

  let smtp: SmtpListener | undefined;
  let worker: SendWorker | undefined;
  let httpServer: HttpServer | undefined;
  const closers: (() => Promise<void>)[] = [];
  let commandRedis: Redis | undefined;

  async function start(): Promise<AppAddresses> {
    const addresses: AppAddresses = {};
    commandRedis = connect('command', 'command');

    if (roles.has('worker')) {
      const ses =
        deps.ses ??
        createSesClient({
          region: config.AWS_REGION,
          endpoint: config.SES_ENDPOINT,
          requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
          maxSockets: config.WORKER_CONCURRENCY,
        });
      worker = createSendWorker({
        connection: connect('worker', 'worker'),
        redis: connect('worker', 'worker-bookkeeping'),
        keys,
        ses,
        logger,
        concurrency: config.WORKER_CONCURRENCY,
        retry,
        failedRetentionMs: config.FAILED_JOB_RETENTION,
      });
      await worker.start();
    }

    if (roles.has('smtp')) {
      const intakeRedis = connect('intake', 'intake');
      const queue = createOutboundQueue({
        connection: intakeRedis,
        keys,
        retry,
        completedRetentionMs: config.COMPLETED_JOB_RETENTION,
        failedRetentionMs: config.FAILED_JOB_RETENTION,
      });
      queue.on('error', (err) => logger.warn({ err: err.message }, 'queue.error'));
      closers.push(() => queue.close());
      const producer = createProducer({
        queue,
        redis: intakeRedis,
        keys,
        rawTtlMs,
        timeoutMs: config.SMTP_INTAKE_TIMEOUT,
      });
      smtp = createSmtpListener({
        config,
        logger,
        handleData: createIntake({
          producer,
          hostname: config.SMTP_NAME,
          maxMessageBytes: config.SMTP_MAX_MESSAGE_BYTES,
          defaultConfigurationSet: config.SES_CONFIGURATION_SET,
          logger,
        }),
      });
      addresses.smtp = await smtp.start();
    }

    if (roles.has('http')) {
      const redis = commandRedis;
      httpServer = createHttpServer({
        host: config.HTTP_HOST,
        port: config.HTTP_PORT,
        logger,
        async readiness() {
          const problems: string[] = [];
          const pong = await redis.ping().catch(() => 'unreachable');
          if (pong !== 'PONG') problems.push('redis: unreachable');
          return problems;
        },
      });
      addresses.http = await httpServer.start();
    }

    logger.info(
      {
        roles: [...roles],
        smtp: addresses.smtp?.port,
        http: addresses.http?.port,
        prefix: config.REDIS_PREFIX,
      },
      'app.started',
    );
    return addresses;
  }

  async function stop(): Promise<void> {
    logger.info('app.stopping');
    await smtp?.stop(config.SHUTDOWN_TIMEOUT);
    for (const close of closers) await close().catch(() => undefined);
    await worker?.stop();
    await httpServer?.stop();
    await Promise.all(connections.map((client) => closeRedis(client)));
    logger.info('app.stopped');
  }

  return { start, stop, logger };
}
