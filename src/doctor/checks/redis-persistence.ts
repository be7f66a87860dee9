// Accepted mail lives only in Redis until SES takes it: without AOF or a replica, a Redis restart
// loses every message accepted since the last RDB snapshot, after the clients were told 250.
import { type CheckResult, type DoctorCheck, ok, warn } from '../types.js';

const ID = 'redis.persistence';

/** `node`: the server's address when REDIS_URL alone does not say which one it is (Sentinel, Cluster). */
export function evaluatePersistence(info: Record<string, string>, cli: string, node?: string): CheckResult {
  const on = node ? `${node}: ` : '';
  const aof = info.aof_enabled === '1';
  const replicas = Number(info.connected_slaves ?? 0);
  if (aof && replicas > 0) return ok(ID, `${on}AOF on, ${replicas} replica(s)`);
  if (aof) return ok(ID, `${on}AOF on`);
  if (replicas > 0) return ok(ID, `${on}${replicas} replica(s) (AOF off)`);
  return warn(
    ID,
    `${on}neither AOF nor a replica: a Redis restart loses mail accepted since the last snapshot`,
    `${cli} CONFIG SET appendonly yes, then ${cli} CONFIG REWRITE (appendfsync everysec is the default); ` +
      'or set `appendonly yes` in redis.conf; or run a replica',
  );
}

export const redisPersistenceCheck: DoctorCheck = {
  id: ID,
  needs: ['redis.server'],
  async run(ctx) {
    return (await ctx.redisNodes()).map((node) =>
      evaluatePersistence(node.info, node.cli, node.named ? node.address : undefined),
    );
  },
};
