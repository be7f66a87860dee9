// What every operator command shares: the gateway's own configuration, Redis/SES/queue clients that
// open only when a command first needs them and close when it ends, and one mapping from failures to
// exit codes (0 done, 1 the check or operation failed, 2 usage or configuration error).
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  loadEnvironment,
  parseConfig,
  unknownSettings,
  type Config,
  type UnknownSetting,
} from '../config/index.js';
import type { SendingHolds } from '../queue/holds.js';
import type { SendJobData } from '../queue/job.js';
import { configuredCredentials, createSesClient } from '../ses/client.js';
import { egressProxyOf } from '../shared/egress-proxy.js';
import { RelayError, errorMessage } from '../shared/errors.js';
import { redisTargetOf } from '../doctor/checks/redis-server.js';
import { createKeys, type Keys } from '../shared/keys.js';
import { createLogger } from '../shared/logger.js';
import { closeRedis, createRedisFactory } from '../shared/redis.js';
import { isRedisUnavailable } from '../shared/redis-unavailable.js';
import { createSuppressionStore, type SuppressionStore } from '../suppression/index.js';
import { createTraceStore, type TraceStore } from '../trace/trace-store.js';
import { err } from './output.js';
import { describeSesFailure, isSesFailure, markSesFailures } from './ses-failure.js';
import { guardStdout } from './stdout.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Redis's answer to a command sent without the password it requires. */
const REDIS_NO_PASSWORD = /^NOAUTH\b/;
/** Its answer to a wrong user or password: WRONGPASS, or `ERR invalid password` before Redis 6. */
const REDIS_WRONG_PASSWORD = /^WRONGPASS\b|^ERR invalid password/;
/** Its answer to a write at maxmemory under noeviction. */
const REDIS_FULL = /^OOM\b/;

/** A CLI command needs few parallel SES calls; the worker's pool size would be waste. */
const CLI_SES_MAX_SOCKETS = 4;

/** A failure the command reports in one line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

export interface CliRuntime {
  readonly config: Config;
  readonly keys: Keys;
  redis(): Redis;
  ses(): SESv2Client;
  /** Async: BullMQ is loaded only by the commands that use the queue (it costs ~0.8 s to load). */
  queue(): Promise<Queue<SendJobData>>;
  holds(): Promise<SendingHolds>;
  suppression(): SuppressionStore;
  trace(): TraceStore;
  close(): Promise<void>;
}

export function createRuntime(config: Config): CliRuntime {
  // The CLI reports Redis problems itself, in one line; the factory's JSON log lines would be noise.
  const logger = createLogger('silent');
  const keys = createKeys(config.REDIS_PREFIX);
  const redisFor = createRedisFactory({
    url: config.REDIS_URL,
    intakeTimeoutMs: config.SMTP_INTAKE_TIMEOUT,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT,
    logger,
    sentinelUsername: config.REDIS_SENTINEL_USERNAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
  });
  let redis: Redis | undefined;
  let ses: SESv2Client | undefined;
  let queue: Queue<SendJobData> | undefined;
  let suppression: SuppressionStore | undefined;
  let trace: TraceStore | undefined;
  let holds: SendingHolds | undefined;

  const runtime: CliRuntime = {
    config,
    keys,
    redis: () => (redis ??= redisFor('command', 'cli')),
    ses: () =>
      (ses ??= markSesFailures(
        createSesClient({
          region: config.AWS_REGION,
          endpoint: config.SES_ENDPOINT,
          requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
          maxSockets: CLI_SES_MAX_SOCKETS,
          credentials: configuredCredentials(config),
          egress: egressProxyOf(config),
        }),
      )),
    async queue() {
      if (!queue) {
        // BullMQ waits for the connection to be ready with no time limit: a ping first makes an
        // unreachable or silent Redis fail within the command timeout, as every other command does.
        await runtime.redis().ping();
        const { createOutboundQueue } = await import('../queue/outbound.js');
        const { retryPolicyOf } = await import('../queue/retry.js');
        queue = createOutboundQueue({
          connection: runtime.redis(),
          keys,
          retry: retryPolicyOf(config),
          completedRetentionMs: config.COMPLETED_JOB_RETENTION,
          failedRetentionMs: config.FAILED_JOB_RETENTION,
          logger,
        });
      }
      return queue;
    },
    async holds() {
      if (!holds) {
        const { createSendingHolds } = await import('../queue/holds.js');
        holds = createSendingHolds({
          redis: runtime.redis(),
          queue: await runtime.queue(),
          holdKey: keys.sendingHold,
          throttleKey: keys.throttle,
        });
      }
      return holds;
    },
    suppression: () =>
      (suppression ??= createSuppressionStore({
        redis: runtime.redis(),
        prefix: config.REDIS_PREFIX,
        ...(config.SUPPRESSION_HASH_KEY ? { hashKey: config.SUPPRESSION_HASH_KEY } : {}),
      })),
    trace: () => (trace ??= createTraceStore(runtime.redis(), config.REDIS_PREFIX, config.TRACE_RETENTION)),
    async close() {
      await queue?.close().catch(() => undefined);
      if (redis) await closeRedis(redis);
      ses?.destroy();
    },
  };
  return runtime;
}

function describeFailure(failure: unknown, config: Config): string {
  // First: a socket error from SES (ENOTFOUND for a mistyped SES_ENDPOINT) would otherwise pass the
  // Redis test below. SES errors are marked by the client (ses-failure.ts).
  if (isSesFailure(failure) || (failure instanceof Error && '$metadata' in failure))
    return describeSesFailure(failure, { endpoint: config.SES_ENDPOINT, region: config.AWS_REGION });
  const message = errorMessage(failure);
  // MaxRetriesPerRequestError when nothing accepts connections at REDIS_URL ('command' connections
  // retry once), "Command timed out" when something accepts them but never answers, "None of startup
  // nodes is available" when no Cluster node does (see redis-unavailable.ts).
  if (isRedisUnavailable(failure)) {
    return `cannot reach Redis at ${redisTargetOf(config.REDIS_URL)} (REDIS_URL): ${message}`;
  }
  // Redis's own words (NOAUTH, WRONGPASS, OOM) name neither Redis nor what to correct.
  const where = `Redis at ${redisTargetOf(config.REDIS_URL)}`;
  if (REDIS_NO_PASSWORD.test(message)) {
    return `${where} wants a password, and REDIS_URL gives none (redis://[user:]password@host:port): ${message}`;
  }
  if (REDIS_WRONG_PASSWORD.test(message)) {
    return `${where} refused the user or password in REDIS_URL: ${message}`;
  }
  if (REDIS_FULL.test(message)) {
    return `${where} is at its maxmemory and refuses writes: ${message}`;
  }
  return message;
}

/**
 * One warning line per name that looks like a setting but is not one (`REDIS_PREFX`). Also what
 * `ses-relay start` and the demo write beside a configuration they refuse: they log the names once
 * running, but a typo (ADMIN_PASWORD) is often what made the configuration invalid.
 */
export function warnUnknownSettings(unknown: readonly UnknownSetting[]): void {
  for (const { name, suggestion } of unknown) {
    err(
      `ses-relay: warning: ${name} is not a setting and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
    );
  }
}

/**
 * The configuration, with the warnings for names that are not settings: a typo would otherwise send
 * the command to the wrong data without a word. The warnings come first, so they stand beside a
 * configuration error they may explain.
 */
function loadCliConfig(): Config {
  const { env, fileProblems } = loadEnvironment();
  warnUnknownSettings(unknownSettings(env));
  return parseConfig(env, fileProblems);
}

/**
 * The AWS SDK warns on every SES command, over eight lines of stderr, that its releases after early
 * 2027 will need Node 22; Node 20 is supported here (README), so the operator would only learn to
 * skip stderr. The SDK reads this variable when a client is built (@aws-sdk/core,
 * emitWarningIfUnsupportedVersion); an operator's own setting wins.
 */
function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Runs one command: loads the configuration, hands the command its runtime, closes every client
 * and sets the exit code. Errors never escape to commander, which would print a stack trace.
 */
export async function runCommand(body: (runtime: CliRuntime) => Promise<number | void>): Promise<void> {
  let config: Config;
  try {
    config = loadCliConfig();
  } catch (failure) {
    err(`ses-relay: ${errorMessage(failure)}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  quietSdkNodeVersionWarning();
  guardStdout();
  const runtime = createRuntime(config);
  try {
    process.exitCode = (await body(runtime)) ?? EXIT_OK;
  } catch (failure) {
    const code =
      failure instanceof CliError
        ? failure.exitCode
        : failure instanceof RelayError && failure.code === 'CONFIG_INVALID'
          ? EXIT_USAGE
          : EXIT_FAILED;
    err(`ses-relay: ${describeFailure(failure, config)}`);
    process.exitCode = code;
  } finally {
    await runtime.close();
  }
}
