// Start-up checks of the Redis that holds acknowledged mail. Eviction would silently drop queued
// messages, so anything but `noeviction` stops start-up with the fix. Without AOF and without a
// replica, a Redis restart loses everything acknowledged since the last snapshot: a warning.
// Read through INFO, which managed services (ElastiCache, MemoryDB) allow where CONFIG GET is off.
import type { Redis } from 'ioredis';
import { RelayError } from './errors.js';
import type { Logger } from './logger.js';

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

export interface DurabilityReport {
  version: string;
  maxmemoryPolicy: string;
  aofEnabled: boolean;
  replicas: number;
}

export async function readDurability(redis: Redis): Promise<DurabilityReport> {
  const info = parseInfo(
    [
      await redis.info('server'),
      await redis.info('memory'),
      await redis.info('persistence'),
      await redis.info('replication'),
    ].join('\n'),
  );
  return {
    version: info.redis_version ?? 'unknown',
    maxmemoryPolicy: info.maxmemory_policy ?? 'unknown',
    aofEnabled: info.aof_enabled === '1',
    replicas: Number(info.connected_slaves ?? '0'),
  };
}

export async function checkRedisDurability(redis: Redis, logger: Logger): Promise<DurabilityReport> {
  const report = await readDurability(redis);
  if (report.maxmemoryPolicy !== 'noeviction' && report.maxmemoryPolicy !== 'unknown') {
    throw new RelayError(
      'REDIS_EVICTION_POLICY',
      `Redis maxmemory-policy is "${report.maxmemoryPolicy}": under memory pressure Redis would delete queued mail. ` +
        'Set it to noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, and "maxmemory-policy noeviction" ' +
        "in redis.conf or the managed service's parameter group).",
    );
  }
  if (!report.aofEnabled && report.replicas === 0) {
    logger.warn(
      { redisVersion: report.version },
      'redis.not_durable: neither AOF nor a replica protects acknowledged mail; a Redis restart loses what was queued since the last snapshot (enable appendonly yes, appendfsync everysec)',
    );
  }
  return report;
}
