// What every role gets from the composition root: configuration, logger, key names and a way to
// open Redis connections that app.stop() closes at the end.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SendJobData } from '../queue/job.js';
import { createOutboundQueue } from '../queue/outbound.js';
import type { Config } from '../config/index.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TraceStore } from '../trace/trace-store.js';
import type { Keys } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import type { RedisUse } from '../shared/redis.js';
import type { RetryPolicy } from '../queue/retry.js';

/** Where the process is in its life: /readyz is 200 only while `running`. */
export type AppPhase = 'starting' | 'running' | 'draining';

export interface RoleContext {
  config: Config;
  logger: Logger;
  keys: Keys;
  retry: RetryPolicy;
  /** Bytes of a queued message live this long at most: its queue lifetime plus failed retention. */
  rawTtlMs: number;
  connect(use: RedisUse, name: string): Redis;
  metrics: Metrics;
  /** Builds a trace store on the given connection (each role uses its own connection). */
  traceStore(redis: Redis): TraceStore;
  phase(): AppPhase;
  /** Problems that keep /readyz at 503 besides Redis and the phase (e.g. no SMTP child running). */
  readinessProblems(): string[];
}

/** The outbound queue with the job options every message gets, on the given connection. */
export function outboundQueueFor(ctx: RoleContext, connection: Redis): Queue<SendJobData> {
  return createOutboundQueue({
    connection,
    keys: ctx.keys,
    retry: ctx.retry,
    completedRetentionMs: ctx.config.COMPLETED_JOB_RETENTION,
    failedRetentionMs: ctx.config.FAILED_JOB_RETENTION,
    logger: ctx.logger,
  });
}

export interface RunningRole {
  stop(): Promise<void>;
}

/**
 * A listener that could not listen, told as the operator can act on it: the setting that names the
 * port (or host) and what to do. Other errors are returned as they are.
 */
export function listenFailure(err: unknown, setting: { port: string; host: string }): unknown {
  const failure = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure?.syscall !== 'listen') return err;
  const where = `${failure.address ?? '?'}:${failure.port ?? '?'}`;
  switch (failure.code ?? '') {
    case 'EADDRINUSE':
      return new Error(
        `${setting.port} ${failure.port}: another process already listens on ${where} (EADDRINUSE); ` +
          `stop it, or set ${setting.port} to a free port`,
      );
    case 'EACCES':
      return new Error(
        `${setting.port} ${failure.port}: not permitted to listen on ${where} (EACCES); ports below 1024 ` +
          'need root or CAP_NET_BIND_SERVICE',
      );
    case 'EADDRNOTAVAIL':
      return new Error(
        `${setting.host} ${failure.address}: not an address of this host, cannot listen on ${where} (EADDRNOTAVAIL)`,
      );
    default:
      return err;
  }
}
