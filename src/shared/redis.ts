// The only module that creates Redis connections. Each use gets the settings it needs:
// - 'intake' fails fast (no offline queue, bounded command time) so SMTP can answer 451 quickly;
// - 'worker' waits through outages (BullMQ requires maxRetriesPerRequest: null for blocking calls);
// - 'command' is for everything else (HTTP, CLI, bookkeeping).
import { Redis, type RedisOptions } from 'ioredis';
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

export function createRedisFactory(options: RedisFactoryOptions): RedisFactory {
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
    const client = new Redis(options.url, { ...base, ...perUse[use] });
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
