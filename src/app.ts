// Composition root: builds the context every role shares, starts the roles this process runs and
// returns { start, stop }. Nothing connects or listens until start(). The HTTP role starts first, so
// /healthz answers (and /readyz says `starting`) while the others start: a worker that waits for
// Redis or SES at start-up is not taken for a dead process. SMTP starts before the worker, so that
// clients are answered (451 while Redis is down) however long the worker's start takes. stop() shuts
// down from the edges inward: SMTP stops taking mail, in-flight SES calls finish, HTTP closes, Redis
// goes last.
import type { AddressInfo } from 'node:net';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Redis } from 'ioredis';
import type { Config, Role } from './config/index.js';
import { retryPolicyOf, type RetryPolicy } from './queue/retry.js';
import { storedBytesTtlMs } from './queue/queued-message.js';
import type { CertificateFetcher } from './webhook/index.js';
import type { AppPhase, RoleContext, RunningRole } from './roles/context.js';
import { startHttpRole, type HttpRole } from './roles/http-role.js';
import { startSmtpRole, type SmtpRole } from './roles/smtp-role.js';
import { startWorkerRole } from './roles/worker-role.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createTraceStore } from './trace/trace-store.js';
import { egressProxyOf, useEgressProxy } from './shared/egress-proxy.js';
import { createKeys } from './shared/keys.js';
import { createLogger, type Logger } from './shared/logger.js';
import { closeRedis, createRedisFactory } from './shared/redis.js';
import { checkRedisDurability } from './shared/redis-checks.js';
import { withDeadline } from './shared/deadline.js';
import { errorMessage, RelayError } from './shared/errors.js';

/** How long start-up waits for Redis to answer the durability check before deferring it. */
const STARTUP_CHECK_MS = 3000;

export interface AppAddresses {
  smtp?: AddressInfo;
  /** The implicit-TLS listener (SMTP_TLS_PORT), when configured. */
  smtps?: AddressInfo;
  http?: AddressInfo;
}

export interface App {
  start(): Promise<AppAddresses>;
  stop(): Promise<void>;
  /** Marks the process as shutting down (/readyz answers 503 `draining`); stop() does it too. */
  drain(): void;
  /** Re-reads files that may change while running: the SMTP users file and TLS certificates. */
  reload(): Promise<void>;
  /** Adds a check to /readyz: it returns a problem (503 not-ready) or undefined. */
  addReadinessCheck(check: () => string | undefined): void;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface AppDependencies {
  logger?: Logger;
  ses?: SESv2Client;
  /** Where the SNS verifier gets signing certificates (tests serve a local one). */
  fetchSnsCertificate?: CertificateFetcher;
  /** Fixed credentials for the SQS poller (tests); otherwise the AWS default provider chain. */
  sqsCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** The gateway's version, for the app.started line (main.ts reads it from package.json). */
  version?: string | undefined;
  /**
   * Called once the app has stopped itself for a fault found after start() returned (a Redis that
   * may evict, seen once it answers): the process should end with a failure exit code.
   */
  onFatal?(err: unknown): void;
}

export function createApp(config: Config, deps: AppDependencies = {}): App {
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL);
  // For the SNS certificate and SubscribeURL fetches, which have no configuration at hand.
  useEgressProxy(egressProxyOf(config));
  const roles = new Set<Role>(config.ROLES);
  const redisFor = createRedisFactory({
    url: config.REDIS_URL,
    intakeTimeoutMs: config.SMTP_INTAKE_TIMEOUT,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT,
    logger,
    sentinelUsername: config.REDIS_SENTINEL_USERNAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
  });
  const connections: Redis[] = [];
  const retry: RetryPolicy = retryPolicyOf(config);
  let phase: AppPhase = 'starting';
  const readinessChecks: (() => string | undefined)[] = [];
  const ctx: RoleContext = {
    config,
    logger,
    keys: createKeys(config.REDIS_PREFIX),
    retry,
    rawTtlMs: storedBytesTtlMs(config),
    metrics: createMetrics(),
    traceStore: (redis) => createTraceStore(redis, config.REDIS_PREFIX, config.TRACE_RETENTION),
    phase: () => phase,
    readinessProblems: () => readinessChecks.map((check) => check()).filter((p) => p !== undefined),
    connect(use, name) {
      const client = redisFor(use, name);
      connections.push(client);
      return client;
    },
  };
  // Stopped in this order: SMTP first (no new mail), then the worker (in-flight sends), then HTTP.
  let smtp: SmtpRole | undefined;
  let worker: RunningRole | undefined;
  let http: HttpRole | undefined;

  async function start(): Promise<AppAddresses> {
    try {
      return await startRoles();
    } catch (err) {
      // The HTTP role (started first) and any other must not outlive a start-up that failed.
      await stop().catch(() => undefined);
      throw err;
    }
  }

  async function startRoles(): Promise<AppAddresses> {
    const addresses: AppAddresses = {};
    if (roles.has('http')) {
      const role = await startHttpRole(ctx, { fetchSnsCertificate: deps.fetchSnsCertificate });
      http = role;
      addresses.http = role.address;
    }
    await checkDurabilityOrDefer(ctx.connect('command', 'startup-check'));
    if (roles.has('smtp')) {
      const role = await startSmtpRole(ctx);
      smtp = role;
      addresses.smtp = role.address;
      if (role.tlsAddress) addresses.smtps = role.tlsAddress;
    }
    if (roles.has('worker')) {
      worker = await startWorkerRole(ctx, {
        ses: deps.ses,
        sqsCredentials: deps.sqsCredentials,
        fetchSnsCertificate: deps.fetchSnsCertificate,
      });
    }
    // A stop() that began while the roles were starting stays in charge.
    if (phase === 'starting') phase = 'running';
    logger.info(
      {
        roles: [...roles],
        smtp: addresses.smtp?.port,
        smtps: addresses.smtps?.port,
        http: addresses.http?.port,
        prefix: config.REDIS_PREFIX,
        version: deps.version,
        node: process.version,
      },
      'app.started',
    );
    return addresses;
  }

  /**
   * A Redis that may evict stops start-up. A Redis that is down at start does not: the roles start
   * (SMTP answers 451 meanwhile) and the check runs once Redis answers, stopping the gateway then.
   * Only a refusal stops it: a check that fails otherwise (the connection dropped again) runs again
   * at the next reconnection.
   */
  async function checkDurabilityOrDefer(probe: Redis): Promise<void> {
    const check = () => checkRedisDurability(probe, logger, config.REDIS_WAIT_REPLICAS);
    try {
      await withDeadline(check(), STARTUP_CHECK_MS, 'Redis');
    } catch (err) {
      if (err instanceof RelayError) throw err;
      logger.warn(
        { err: errorMessage(err) },
        'redis.unreachable_at_start: the durability check runs once Redis answers',
      );
      let settled = false;
      const onReady = () => {
        check().then(
          () => {
            settled = true;
            probe.off('ready', onReady);
          },
          (failure: unknown) => {
            if (settled) return;
            if (!(failure instanceof RelayError)) {
              logger.warn(
                { err: errorMessage(failure) },
                'redis.check_failed: the durability check runs again at the next reconnection',
              );
              return;
            }
            settled = true;
            probe.off('ready', onReady);
            logger.fatal({ err: errorMessage(failure) }, 'redis.not_acceptable');
            void stop()
              .catch(() => undefined)
              .then(() => deps.onFatal?.(failure));
          },
        );
      };
      probe.on('ready', onReady);
      // Redis may have come back while the first check was still waiting.
      if (probe.status === 'ready') onReady();
    }
  }

  function drain(): void {
    phase = 'draining';
  }

  let stopped: Promise<void> | undefined;

  /** Once: a second call (a failed start, then the caller's own stop) waits for the first. */
  function stop(): Promise<void> {
    stopped ??= stopRoles();
    return stopped;
  }

  async function stopRoles(): Promise<void> {
    drain();
    logger.info('app.stopping');
    for (const role of [smtp, worker, http]) await role?.stop();
    await Promise.all(connections.map((client) => closeRedis(client)));
    logger.info('app.stopped');
  }

  async function reload(): Promise<void> {
    logger.info('app.reload');
    await smtp?.reload();
    await http?.reload();
  }

  function addReadinessCheck(check: () => string | undefined): void {
    readinessChecks.push(check);
  }

  return { start, stop, drain, reload, addReadinessCheck, logger, metrics: ctx.metrics };
}
