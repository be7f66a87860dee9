// A connection that stopped carrying bytes (see SILENCE_MS in redis.ts) is noticed only while a
// command waits for its answer. One that is idle for a while (a pacer between bursts, intake at
// night) would be found dead only when next needed, and the worker's connections one after the
// other as a job goes through them. So each connection is asked PING every few seconds: a dead one
// is dropped and made again before mail needs it, all of a process's at about the same time.
import type { Redis } from 'ioredis';
import { asCluster } from './redis-nodes.js';

/** How often each connection (each Cluster node's) is asked PING. */
export const HEARTBEAT_MS = 5000;

export function keepHeartbeat(client: Redis, intervalMs = HEARTBEAT_MS): void {
  const timer = setInterval(() => {
    // Only connections up now: one being made again has nothing to find out, and PING must not
    // wait in an offline queue.
    const nodes = asCluster(client)?.nodes('all') ?? [client];
    for (const node of nodes) if (node.status === 'ready') node.ping().catch(() => undefined);
  }, intervalMs);
  timer.unref();
  client.once('end', () => clearInterval(timer));
}
