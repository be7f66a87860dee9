// Redis must never evict: queued messages, jobs and suppression entries are data, not cache. Any
// policy other than noeviction lets Redis delete them silently when it reaches maxmemory.
import { type CheckResult, type DoctorCheck, fail, ok } from '../types.js';
import { redisCli } from './redis-server.js';

const ID = 'redis.eviction';

export function evaluateEvictionPolicy(policy: string | undefined, cli: string): CheckResult {
  if (policy === 'noeviction') return ok(ID, 'maxmemory-policy is noeviction');
  return fail(
    ID,
    `maxmemory-policy is ${policy ?? 'unknown'}: Redis may delete queued mail and suppression entries under memory pressure`,
    `${cli} CONFIG SET maxmemory-policy noeviction, then ${cli} CONFIG REWRITE to keep it ` +
      'across restarts; or set `maxmemory-policy noeviction` in redis.conf (managed Redis: in its parameter group)',
  );
}

export const redisEvictionCheck: DoctorCheck = {
  id: ID,
  needs: ['redis.server'],
  async run(ctx) {
    const info = await ctx.redisInfo();
    return [evaluateEvictionPolicy(info.maxmemory_policy, redisCli(ctx.config.REDIS_URL))];
  },
};
