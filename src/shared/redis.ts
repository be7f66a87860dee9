// The only module that creates Redis connections. Each use gets the settings it needs:
// - 'intake' fails fast (no offline queue, bounded command time) so SMTP can answer 451 quickly
//   (its writes are coalesced per event-loop turn by write-coalescing.ts; ioredis auto-pipelining,
//   which copies commands into a pipeline first, was measured slower: 1,117 vs 1,545 msg/s);
// - 'worker' waits through outages (BullMQ requires maxRetriesPerRequest: null for blocking calls);
// - 'command' is for everything else (HTTP, CLI, bookkeeping).
// REDIS_URL may name one server (redis://, rediss://, unix://), Sentinels (redis-sentinel://) or a
// Cluster (redis-cluster://); the rest of the code sees the same client interface either way.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

export type RedisUse = 'intake' | 'worker' | 'command';

/** Reconnect quickly at first, then every 2 s at most, forever: a gateway outlives Redis outages. */
const MAX_RECONNECT_DELAY_MS = 2000;

export interface RedisFactoryOptions {
  url: string;
  /** Upper bound for one command on the intake connection. */
  commandTimeoutMs: number;
  logger: Logger;
}

export type RedisFactory = (use: RedisUse, name: string) => Redis;

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      name: string;
      sentinels: { host: string; port: number }[];
      password?: string | undefined;
    }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; password?: string | undefined; tls: boolean };

function hostList(text: string, defaultPort: number): { host: string; port: number }[] {
  return text.split(',').map((entry) => {
    const [host = '', port] = entry.split(':');
    return { host, port: port ? Number(port) : defaultPort };
  });
}

/**
 * `redis-sentinel://[:password@]host:26379,host2:26379/<master name>` and
 * `redis-cluster://[:password@]host:6379,host2:6379` (`rediss-cluster://` for TLS); anything else
 * is handed to ioredis as a plain URL.
 */
export function parseRedisTarget(url: string): RedisTarget {
  const match =
    /^(redis-sentinel|redis-cluster|rediss-cluster):\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)(?:\/(.*))?$/.exec(
      url,
    );
  if (!match) return { kind: 'single', url };
  const [, scheme, password, hosts = '', path] = match;
  const secret = password ? decodeURIComponent(password) : undefined;
  if (scheme === 'redis-sentinel') {
    return {
      kind: 'sentinel',
      name: path || 'mymaster',
      sentinels: hostList(hosts, 26379),
      password: secret,
    };
  }
  return {
    kind: 'cluster',
    nodes: hostList(hosts, 6379),
    password: secret,
    tls: scheme === 'rediss-cluster',
  };
}

/**
 * Whether REDIS_URL names something the factory can connect to: a Sentinel or Cluster list, or
 * `redis://` / `rediss://` with a host and at most a database number, or a `unix://` socket path.
 */
export function redisUrlIsValid(url: string): boolean {
  if (parseRedisTarget(url).kind !== 'single') return true;
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') return parsed.pathname.length > 1;
  return (
    (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') &&
    parsed.hostname !== '' &&
    /^\/?\d*$/.test(parsed.pathname)
  );
}

function connect(target: RedisTarget, options: RedisOptions): Redis {
  if (target.kind === 'single') return new Redis(target.url, options);
  if (target.kind === 'sentinel') {
    return new Redis({
      ...options,
      sentinels: target.sentinels,
      name: target.name,
      password: target.password,
    });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...options, password: target.password, ...(target.tls ? { tls: {} } : {}) },
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    clusterRetryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
  };
  // A Cluster answers the same commands; every key of one deployment shares one hash tag (see
  // keys.ts), so multi-key scripts and MULTI stay on one slot.
  return new Cluster(target.nodes, clusterOptions) as unknown as Redis;
}

export function createRedisFactory(options: RedisFactoryOptions): RedisFactory {
  const target = parseRedisTarget(options.url);
  return (use, name) => {
    const base: RedisOptions = {
      connectionName: `ses-relay:${name}`,
      retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      lazyConnect: false,
    };
    const perUse: Record<RedisUse, RedisOptions> = {
      intake: {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs,
      },
      worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
      command: { maxRetriesPerRequest: 1, enableOfflineQueue: true, commandTimeout: 10_000 },
    };
    const client = connect(target, { ...base, ...perUse[use] });
    let lastError = '';
    client.on('error', (err: Error) => {
      // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
      if (err.message !== lastError) options.logger.warn({ redis: name, err: err.message }, 'redis.error');
      lastError = err.message;
    });
    client.on('ready', () => {
      if (lastError !== '') options.logger.info({ redis: name }, 'redis.reconnected');
      lastError = '';
    });
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
