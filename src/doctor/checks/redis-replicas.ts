// REDIS_WAIT_REPLICAS makes every message wait until that many replicas acknowledged it. A Redis with
// fewer connected replicas can never acknowledge: every message waits REDIS_WAIT_TIMEOUT and is
// refused 451 4.3.0, while Redis itself looks healthy.
import { type CheckResult, type DoctorCheck, fail, ok } from '../types.js';

const ID = 'redis.replicas';

/** `node`: the server's address when REDIS_URL alone does not say which one it is (Sentinel, Cluster). */
export function evaluateWaitReplicas(
  info: Record<string, string>,
  wanted: number,
  node?: string,
): CheckResult {
  const on = node ? `${node}: ` : '';
  const connected = Number(info.connected_slaves ?? 0);
  if (connected >= wanted) {
    return ok(ID, `${on}${connected} connected replica(s), REDIS_WAIT_REPLICAS is ${wanted}`);
  }
  return fail(
    ID,
    `${on}REDIS_WAIT_REPLICAS is ${wanted} but ${connected} replica(s) are connected: every message waits REDIS_WAIT_TIMEOUT and is refused 451 4.3.0`,
    `connect ${wanted} replica(s) (replicaof on each, or the managed service's replica count), or lower REDIS_WAIT_REPLICAS to ${connected}`,
  );
}

export const redisReplicasCheck: DoctorCheck = {
  id: ID,
  needs: ['redis.server'],
  async run(ctx) {
    const wanted = ctx.config.REDIS_WAIT_REPLICAS;
    // Nothing waits for replicas: nothing to report.
    if (wanted <= 0) return [];
    return (await ctx.redisNodes()).map((node) =>
      evaluateWaitReplicas(node.info, wanted, node.named ? node.address : undefined),
    );
  },
};
