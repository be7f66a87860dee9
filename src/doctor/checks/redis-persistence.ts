// Accepted mail lives only in Redis until SES takes it: without AOF or a replica, a Redis restart
// loses every message accepted since the last RDB snapshot, after the clients were told 250.
import { type CheckResult, type DoctorCheck, ok, warn } from '../types.js';
import { redisCli } from './redis-server.js';

const ID = 'redis.persistence';

export function evaluatePersistence(info: Record<string, string>, cli: string): CheckResult {
  const aof = info.aof_enabled === '1';
  const replicas = Number(info.connected_slaves ?? 0);
  if (aof && replicas > 0) return ok(ID, `AOF on, ${replicas} replica(s)`);
  if (aof) return ok(ID, 'AOF on');
  if (replicas > 0) return ok(ID, `${replicas} replica(s) (AOF off)`);
  return warn(
    ID,
    'neither AOF nor a replica: a Redis restart loses mail accepted since the last snapshot',
    `${cli} CONFIG SET appendonly yes, then ${cli} CONFIG REWRITE (appendfsync everysec is the default); ` +
      'or set `appendonly yes` in redis.conf; or run a replica',
  );
}

export const redisPersistenceCheck: DoctorCheck = {
  id: ID,
  needs: ['redis.server'],
  async run(ctx) {
    return [evaluatePersistence(await ctx.redisInfo(), redisCli(ctx.config.REDIS_URL))];
  },
};
