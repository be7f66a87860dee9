// Redis is reachable, new enough, and writable. BullMQ needs 6.2; the gateway's tests run on 7.x,
// so an older server is a warning.
import { errorMessage } from '../../shared/errors.js';
import { MIN_REDIS_VERSION, versionAtLeast } from '../../shared/redis-checks.js';
import { describeRedisUrl } from '../../shared/redis-url.js';
import { type CheckResult, type DoctorCheck, fail, ok, warn } from '../types.js';

const ID = 'redis.server';

export function evaluateRedisServer(info: Record<string, string>, target: string): CheckResult[] {
  const version = info.redis_version ?? 'unknown';
  const where = `Redis ${version} at ${target}`;
  if (info.role === 'slave') {
    return [fail(ID, `${where} is a read-only replica`, 'point REDIS_URL at the primary (master)')];
  }
  if (!versionAtLeast(version, MIN_REDIS_VERSION)) {
    return [
      fail(
        ID,
        `${where}: the gateway needs Redis ${MIN_REDIS_VERSION} or newer (BullMQ)`,
        'upgrade Redis to 7.x',
      ),
    ];
  }
  if (!versionAtLeast(version, '7.0')) {
    return [
      warn(
        ID,
        `${where}: BullMQ runs on it, but the gateway is tested on Redis 7.x only`,
        'upgrade Redis to 7.x',
      ),
    ];
  }
  return [ok(ID, where)];
}

/** The redis-cli invocation for a fix line, for a one-server REDIS_URL: host and port, never the password. */
export function redisCli(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'unix:') return `redis-cli -s ${parsed.pathname}`;
    const tls = parsed.protocol === 'rediss:' ? ' --tls' : '';
    return `redis-cli -h ${parsed.hostname} -p ${parsed.port || '6379'}${tls}`;
  } catch {
    return 'redis-cli';
  }
}

/** Where REDIS_URL points, for messages: a server, Sentinels and their master, or Cluster nodes. */
export function redisTargetOf(url: string): string {
  return describeRedisUrl(url);
}

export const redisServerCheck: DoctorCheck = {
  id: ID,
  async run(ctx) {
    const target = redisTargetOf(ctx.config.REDIS_URL);
    try {
      const nodes = await ctx.redisNodes();
      return nodes.flatMap((node) => evaluateRedisServer(node.info, node.address));
    } catch (err) {
      return [
        fail(
          ID,
          `cannot reach Redis at ${target}: ${errorMessage(err)}`,
          'start Redis, or correct REDIS_URL (redis://[:password@]host:port[/db]; rediss:// for TLS)',
        ),
      ];
    }
  },
};
