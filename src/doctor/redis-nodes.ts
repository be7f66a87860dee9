// What the doctor reads from the Redis at REDIS_URL: INFO of the server, of the master a Sentinel
// points at, or of every Cluster master (INFO through a Cluster client answers for one random node),
// each with its address and the redis-cli line that reaches it.
import type { Redis } from 'ioredis';
import { parseInfo } from '../shared/redis-checks.js';
import { masterNodes, nodeAddress, nodeEndpoint } from '../shared/redis-nodes.js';
import { parseRedisTarget } from '../shared/redis-url.js';
import { redisCli, redisTargetOf } from './checks/redis-server.js';
import type { RedisNodeFacts } from './types.js';

function cliFor(node: Redis, tls: boolean): string {
  const endpoint = nodeEndpoint(node);
  if ('path' in endpoint) return `redis-cli -s ${endpoint.path}`;
  return `redis-cli -h ${endpoint.host} -p ${endpoint.port}${tls ? ' --tls' : ''}`;
}

export async function readRedisNodes(redis: Redis, url: string): Promise<RedisNodeFacts[]> {
  const target = parseRedisTarget(url);
  if (target.kind === 'single') {
    const info = parseInfo(await redis.info());
    return [{ address: redisTargetOf(url), named: false, cli: redisCli(url), info }];
  }
  const tls = target.kind === 'cluster' && target.tls;
  return Promise.all(
    (await masterNodes(redis)).map(async (node) => {
      // Read first: a Sentinel client knows where its master is once it has connected.
      const info = parseInfo(await node.info());
      return { address: nodeAddress(node), named: true, cli: cliFor(node, tls), info };
    }),
  );
}
