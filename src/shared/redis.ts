// The only module that creates Redis connections. Each use gets the settings it needs:
// - 'intake' fails fast (no offline queue, bounded command time) so SMTP can answer 451 quickly
//   (its writes are coalesced per event-loop turn by write-coalescing.ts; ioredis auto-pipelining,
//   which copies commands into a pipeline first, was measured slower: 1,117 vs 1,545 msg/s);
// - 'worker' waits through outages (BullMQ requires maxRetriesPerRequest: null for blocking calls);
// - 'command' is for everything else (HTTP, CLI, bookkeeping).
// Every connection is made again when it stops answering (see socketTimeout below; redis-heartbeat.ts asks
// the idle ones) or when a failover left it on a server that is now a replica (reconnectOnError).
// REDIS_URL may name one server (redis://, rediss://, unix://), Sentinels (redis-sentinel://) or a
// Cluster (redis-cluster://); the rest of the code sees the same client interface either way.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { errorShape } from './log-repeats.js';
import { keepHeartbeat } from './redis-heartbeat.js';
import type { Logger } from './logger.js';
import { parseRedisTarget, type RedisTarget } from './redis-url.js';

export {
  describeRedisUrl,
  parseRedisTarget,
  redisUrlIsValid,
  redisUrlKind,
  redisUrlProblem,
  type RedisTarget,
} from './redis-url.js';

export type RedisUse = 'intake' | 'worker' | 'command';

/** Reconnect quickly at first, then every 2 s at most, forever: a gateway outlives Redis outages. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * How long a connection may receive nothing while commands wait for their answers before it is
 * dropped and made again (ioredis's socketTimeout; commands are answered in order, so any answer
 * restarts the clock). A partition, or a peer gone without a reset (the old node of a failover, a
 * lost NAT entry), leaves the socket open: commands would go into it until the kernel gives up,
 * about 15 minutes, or for ever behind a proxy that keeps it open. Intake and 'command' connections
 * take their command timeout (SMTP_INTAKE_TIMEOUT, REDIS_COMMAND_TIMEOUT). A worker connection has
 * none (it waits
 * through outages), and BullMQ blocks its copy of one on BZPOPMIN for up to 10 s, which is silence
 * too (BullMQ resets that copy itself 1 s after the block should have ended): 15 s is beyond both.
 */
const WORKER_SILENCE_MS = 15_000;

/**
 * Replies after which a connection is made again, on whatever use, server, Sentinel master or
 * Cluster node: READONLY, a write that reached a server a failover turned into a replica while the
 * connection stayed open (a managed service's endpoint moving to the promoted node, a REPLICAOF);
 * UNBLOCKED, a blocking read (BullMQ's BZPOPMIN) ended by that change. A new connection reaches the
 * current primary: through the endpoint, or as Sentinel names it. The command itself fails (true, not
 * 2: resent alone after the reconnection, a command of a MULTI would run outside it): intake answers
 * 451 once, BullMQ and the worker try again.
 */
const RECONNECT_REPLIES = /^(READONLY|UNBLOCKED)\b/;

function reconnectOnError(err: Error): boolean {
  return RECONNECT_REPLIES.test(err.message);
}

/** REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD: what the Sentinels themselves ask for. */
export interface SentinelCredentials {
  sentinelUsername?: string | undefined;
  sentinelPassword?: string | undefined;
}

export interface RedisFactoryOptions extends SentinelCredentials {
  url: string;
  /** Upper bound for one command on an intake connection (SMTP_INTAKE_TIMEOUT). */
  intakeTimeoutMs: number;
  /** Upper bound for one command on a 'command' connection (REDIS_COMMAND_TIMEOUT). */
  commandTimeoutMs: number;
  logger: Logger;
}

export type RedisFactory = (use: RedisUse, name: string) => Redis;

function connect(target: RedisTarget, options: RedisOptions, sentinelAuth: SentinelCredentials): Redis {
  if (target.kind === 'single') return new Redis(target.url, options);
  if (target.kind === 'sentinel') {
    // The URL's credentials are the Redis servers'; Sentinels have their own (sentinel.conf
    // requirepass/user), often none, and ioredis warns on stderr when given a password they do not use.
    return new Redis({
      ...options,
      sentinels: target.sentinels,
      name: target.name,
      username: target.username,
      password: target.password,
      sentinelUsername: sentinelAuth.sentinelUsername,
      sentinelPassword: sentinelAuth.sentinelPassword,
    });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...options,
      username: target.username,
      password: target.password,
      ...(target.tls ? { tls: {} } : {}),
    },
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    clusterRetryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
  };
  // A Cluster answers the same commands; every key of one deployment shares one hash tag (see
  // keys.ts), so multi-key scripts and MULTI stay on one slot.
  const cluster = new Cluster(target.nodes, clusterOptions);
  if (options.commandTimeout !== undefined) boundClusterCommands(cluster, options.commandTimeout);
  return cluster as unknown as Redis;
}

/**
 * A Cluster applies its nodes' commandTimeout only once a command reaches a node: while no node
 * answers, commands wait in the Cluster's own offline queue for ever. Starting each command's clock
 * when it is handed to the Cluster makes it fail with "Command timed out" within the same bound as on
 * a single server (the node applies no second clock: a command keeps its first timer).
 */
function boundClusterCommands(cluster: Cluster, timeoutMs: number): void {
  const send = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = (...args: Parameters<Cluster['sendCommand']>) => {
    args[0].setTimeout(timeoutMs);
    return send(...args);
  };
}

export function createRedisFactory(options: RedisFactoryOptions): RedisFactory {
  const target = parseRedisTarget(options.url);
  return (use, name) => {
    const base: RedisOptions = {
      connectionName: `ses-relay:${name}`,
      retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      lazyConnect: false,
      reconnectOnError,
      socketTimeout: {
        intake: options.intakeTimeoutMs,
        worker: WORKER_SILENCE_MS,
        command: options.commandTimeoutMs,
      }[use],
    };
    const perUse: Record<RedisUse, RedisOptions> = {
      intake: {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.intakeTimeoutMs,
      },
      worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
      command: {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
        commandTimeout: options.commandTimeoutMs,
      },
    };
    const client = connect(target, { ...base, ...perUse[use] }, options);
    let lastError = '';
    client.on('error', (err: Error) => {
      // ioredis repeats the same error on every reconnect attempt, some with a delay that changes
      // each time ("Retrying from scratch after 440ms"); log each distinct one once.
      const shape = errorShape(err.message);
      if (shape !== lastError) options.logger.warn({ redis: name, err: err.message }, 'redis.error');
      lastError = shape;
    });
    client.on('ready', () => {
      if (lastError !== '') options.logger.info({ redis: name }, 'redis.reconnected');
      lastError = '';
    });
    keepHeartbeat(client);
    return client;
  };
}

/** Closes a connection politely, falling back to a hard disconnect when Redis does not answer. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  } catch {
    // already closed or unreachable: disconnect below
  }
  client.disconnect();
}

/**
 * Resolves once the connection is ready, or after `ms` without it (never rejects): a listener that
 * waits this long does not answer its first clients 451 only because its connection is still being
 * set up (a Cluster learns its slots first), while a Redis that is down does not hold start-up.
 */
export async function readyOrAfter(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  const ready = await new Promise<boolean>((resolve) => {
    onReady = () => resolve(true);
    client.once('ready', onReady);
    timer = setTimeout(() => resolve(false), ms);
  });
  clearTimeout(timer);
  client.off('ready', onReady!);
  return ready;
}
