// REDIS_WAIT_REPLICAS: after a message's writes, Redis's WAIT blocks until that many replicas hold
// them. WAIT counts only the writes made on the connection it is sent on, so it must go where the
// writes went: on a Cluster, the connection to the master owning the deployment's slot (every key of
// a deployment shares one hash tag), not whichever node the Cluster would pick for a keyless command.
import type { Redis } from 'ioredis';
import { nodeOwning } from './redis-nodes.js';

/** How many replicas acknowledged every earlier write to `key`'s node, waiting at most `timeoutMs`. */
export async function waitForReplicas(
  redis: Redis,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const node = nodeOwning(redis, key);
  if (!node) throw new Error('no Cluster master owns the slot the message was written to');
  return Number(await node.call('WAIT', replicas, timeoutMs));
}
