// Redis must never evict: queued messages, jobs and suppression entries are data, not cache. Any
// policy other than noeviction lets Redis delete them silently when it reaches maxmemory.
import { type CheckResult, type DoctorCheck, fail, ok } from '../types.js';

const ID = 'redis.eviction';

/** `node`: the server's address when REDIS_URL alone does not say which one it is (Sentinel, Cluster). */
export function evaluateEvictionPolicy(policy: string | undefined, cli: string, node?: string): CheckResult {
  const on = node ? `${node}: ` : '';
  if (policy === 'noeviction') return ok(ID, `${on}maxmemory-policy is noeviction`);
  return fail(
    ID,
    `${on}maxmemory-policy is ${policy ?? 'unknown'}: Redis may delete queued mail and suppression entries under memory pressure`,
    `${cli} CONFIG SET maxmemory-policy noeviction, then ${cli} CONFIG REWRITE to keep it ` +
      'across restarts; or set `maxmemory-policy noeviction` in redis.conf (managed Redis: in its parameter group)',
  );
}

export const redisEvictionCheck: DoctorCheck = {
  id: ID,
  needs: ['redis.server'],
  async run(ctx) {
    return (await ctx.redisNodes()).map((node) =>
      evaluateEvictionPolicy(node.info.maxmemory_policy, node.cli, node.named ? node.address : undefined),
    );
  },
};
